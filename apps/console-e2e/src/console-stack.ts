import { spawnSync } from 'node:child_process';
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
  const identity = microsoft.identity;
  identity.redirectUris.add(`${baseUrl}/v1/auth/oidc/microsoft/callback`);
  const apps: AppProcess[] = [];
  const stopAll = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([dns.stop(), sink.stop(), microsoft.stop()]);
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
  const args = ['-r', './tools/runtime/paths.cjs', 'dist/tools/cli/mailwarden.js', 'user', 'create', '--email', email, '--password-stdin'];
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
