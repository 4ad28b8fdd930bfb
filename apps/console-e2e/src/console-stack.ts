import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Account, Domain } from '@mailwarden/db';
// The console's browser tests are test code: this file is only imported by *.int-spec.ts files next to it.
// eslint-disable-next-line no-restricted-imports
import { createTestDatabase, createTestRedis, DnsTestServer, FakeMicrosoft365, faultAppEnv, freePort, SmtpSink, startAppProcess, TestFactories, type AppProcess, type TestDatabase, type TestRedis } from '@mailwarden/testing';

export const JOURNAL_DOMAIN = 'journal.console.test';
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Everything the console's journeys run against: PostgreSQL, Redis, the three apps as processes, DNS, a downstream sink. */
export interface ConsoleStack {
  db: TestDatabase;
  redis: TestRedis;
  dns: DnsTestServer;
  sink: SmtpSink;
  /** The fake Microsoft identity platform the admin API's OpenID Connect sign-in talks to (`identity.signInAs`). */
  microsoft: FakeMicrosoft365;
  factories: TestFactories;
  baseUrl: string;
  ports: { journalSmtp: number; journalHttp: number; gatewaySmtp: number; gatewayHttp: number; adminApi: number };
  apps: AppProcess[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The fake Microsoft identity platform over HTTPS, as the real one is (the admin API's OpenID Connect client refuses
 * plain http): a TLS front on 127.0.0.1 with a throw-away self-signed certificate for that address, passing every
 * request to the fake. The admin API trusts the certificate through NODE_EXTRA_CA_CERTS; the browser context ignores
 * certificate errors (the only https host in these tests).
 */
async function httpsFront(microsoft: FakeMicrosoft365): Promise<{ server: Server; certificateFile: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mw-console-tls-'));
  const certificateFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2', '-keyout', path.join(dir, 'key.pem'), '-out', certificateFile],
    { stdio: 'ignore' },
  );
  const upstream = new URL(microsoft.baseUrl);
  const server = createHttpsServer({ cert: readFileSync(certificateFile), key: readFileSync(path.join(dir, 'key.pem')) }, (request, response) => {
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  microsoft.baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    certificateFile,
    async cleanup() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How long one app may take to start: eight test runs can share the two cores, so well over the usual 30 s. */
const START_TIMEOUT_MS = 120_000;

export async function startConsoleStack(): Promise<ConsoleStack> {
  const dns = new DnsTestServer({});
  const sink = new SmtpSink();
  const microsoft = new FakeMicrosoft365();
  const [db, redis] = await Promise.all([createTestDatabase(), createTestRedis(), dns.start(), sink.start(), microsoft.start()]);
  const ports = { journalSmtp: await freePort(), journalHttp: await freePort(), gatewaySmtp: await freePort(), gatewayHttp: await freePort(), adminApi: await freePort() };
  const baseUrl = `http://127.0.0.1:${ports.adminApi}`;
  const env = faultAppEnv({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, dnsServer: dns.server, journalDomain: JOURNAL_DOMAIN, maxMessageSize: 10 * 1024 * 1024 });
  const tls = await httpsFront(microsoft);
  const identity = microsoft.identity;
  identity.redirectUris.add(`${baseUrl}/v1/auth/oidc/microsoft/callback`);
  const apps: AppProcess[] = [];
  const stopAll = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([dns.stop(), sink.stop(), tls.cleanup()]);
    await microsoft.stop();
    await redis.cleanup();
    await db.drop();
  };
  try {
    // One after the other: starting three Nest apps at once on a busy machine is what makes starts time out.
    apps.push(await startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(ports.journalSmtp), JOURNAL_HTTP_PORT: String(ports.journalHttp) }, /app\.listening/, START_TIMEOUT_MS));
    apps.push(
      await startAppProcess(
        'scanner',
        { ...env, SCANNER_ROLE: 'all', SCANNER_SMTP_PORT: String(ports.gatewaySmtp), SCANNER_HTTP_PORT: String(ports.gatewayHttp), JOURNAL_HTTP_PORT: String(await freePort()) },
        /app\.listening/,
        START_TIMEOUT_MS,
      ),
    );
    apps.push(
      await startAppProcess(
        'admin-api',
        {
          ...env,
          ADMIN_API_PORT: String(ports.adminApi),
          SCANNER_SMTP_HOST: '127.0.0.1',
          SCANNER_SMTP_PORT: String(ports.gatewaySmtp),
          PUBLIC_BASE_URL: baseUrl,
          OIDC_PROVIDER: 'microsoft',
          OIDC_DISPLAY_NAME: 'Microsoft',
          OIDC_ISSUER: identity.issuer,
          OIDC_CLIENT_ID: identity.clientId,
          OIDC_CLIENT_SECRET: identity.clientSecret,
          OIDC_MATCH_PREFERRED_USERNAME: 'true',
          NODE_EXTRA_CA_CERTS: tls.certificateFile,
        },
        /app\.listening/,
        START_TIMEOUT_MS,
      ),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { db, redis, dns, sink, microsoft, factories: new TestFactories(db.prisma), baseUrl, ports, apps, env, stop: stopAll };
}

/** A person who signs in to the console, created by the operator CLI as an operator would (`npm run mw -- user create`). */
export interface ConsoleUser {
  email: string;
  password: string;
}

export function createUser(stack: ConsoleStack, owner: { partnerId: string } | { accountId: string; role: 'TENANT_ADMIN' | 'READ_ONLY' }, email: string): ConsoleUser {
  const password = `pw-${Math.random().toString(36).slice(2)}-Console!9`;
  const args = ['dist/tools/cli/mailwarden.js', 'user', 'create', '--email', email, '--password-stdin'];
  if ('partnerId' in owner) args.push('--partner', owner.partnerId);
  else args.push('--account', owner.accountId, '--role', owner.role);
  const result = spawnSync(process.execPath, args, { cwd: ROOT, input: `${password}\n`, env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: stack.db.url }, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`user create failed: ${result.stdout}${result.stderr}`);
  }
  return { email, password };
}

/** A monitor-only tenant under `partnerId` with one verified journal domain. */
export async function journalTenant(stack: ConsoleStack, partnerId: string | null, name: string, domain: string): Promise<{ account: Account; domain: Domain }> {
  const account = await stack.factories.newAccount({ name, monitorOnly: true, partnerId });
  return { account, domain: await stack.factories.newDomain(account, { name: domain, mode: 'JOURNAL', verified: true }) };
}

export const journalAddressOf = (account: Account) => `${account.journalToken}@${JOURNAL_DOMAIN}`;
