import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import {
  createTestDatabase,
  createTestRedis,
  getHealth,
  listenOnFreePort,
  proxiedDatabaseUrl,
  type TcpProxy,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';

describe('admin-api process', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let proxy: TcpProxy;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    const proxied = await proxiedDatabaseUrl(db.url);
    proxy = proxied.proxy;
    const config = loadConfig('admin-api', { DATABASE_URL: proxied.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
    app = await createAdminApi(config, false);
    baseUrl = await listenOnFreePort(app);
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.cut();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should answer /health with 200 while PostgreSQL and Redis are up', async () => {
    const { status, body } = await getHealth(baseUrl);
    expect(status).toBe(200);
    expect(body.checks).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('should serve Prometheus metrics', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await response.text()).toMatch(/mailwarden_process_cpu_user_seconds_total\{app="admin-api"\}/);
  });

  it('should serve its OpenAPI document', async () => {
    const response = await fetch(`${baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    expect((await response.json()) as { openapi: string }).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  });

  it('should answer 503 naming PostgreSQL when it goes down, and 200 again when it is back', async () => {
    await proxy.cut();
    const down = await getHealth(baseUrl);
    expect(down.status).toBe(503);
    expect(down.body.checks.postgres!.status).toBe('down');
    expect(down.body.checks.redis!.status).toBe('up');

    await proxy.restore();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await getHealth(baseUrl)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
