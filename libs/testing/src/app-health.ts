import type { INestApplication } from '@nestjs/common';
import { TcpProxy } from './tcp-proxy';
import { TEST_POSTGRES_URL } from './test-env';

export interface HealthBody {
  status: string;
  checks: Record<string, { status: string; error?: string }>;
}

export async function getHealth(baseUrl: string): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${baseUrl}/health`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

/** A database URL that reaches `databaseUrl`'s server through a proxy the test can cut. */
export async function proxiedDatabaseUrl(databaseUrl: string): Promise<{ url: string; proxy: TcpProxy }> {
  const target = new URL(TEST_POSTGRES_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const port = await proxy.start();
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), proxy };
}

export async function listenOnFreePort(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}
