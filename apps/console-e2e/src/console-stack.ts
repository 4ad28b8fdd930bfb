import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Account, Domain } from '@mailwarden/db';
// The console's browser tests are test code: this file is only imported by *.int-spec.ts files next to it.
// eslint-disable-next-line no-restricted-imports
import { createTestDatabase, createTestRedis, DnsTestServer, FakeMicrosoft365, FakeMimecastServer, faultAppEnv, freePort, SmtpSink, startAppProcess, TestFactories, type AppProcess, type TestDatabase, type TestRedis } from '@mailwarden/testing';

export const JOURNAL_DOMAIN = 'journal.console.test';
export const MIMECAST_CREDENTIALS = { clientId: 'console-mimecast-client', clientSecret: 'console-mimecast-secret' };
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Everything the console's journeys run against: PostgreSQL, Redis, the three apps as processes, DNS, a downstream sink. */
export interface ConsoleStack {
  db: TestDatabase;
  redis: TestRedis;
  dns: DnsTestServer;
  sink: SmtpSink;
  /** The fake Microsoft identity platform the admin API's OpenID Connect sign-in talks to (`identity.signInAs`). */
  microsoft: FakeMicrosoft365;
  /** The fake Mimecast API 2.0 (client credentials `MIMECAST_CREDENTIALS`), reached by the apps at `mimecastUrl` (https). */
  mimecast: FakeMimecastServer;
  mimecastUrl: string;
  factories: TestFactories;
  baseUrl: string;
  ports: { journalSmtp: number; journalHttp: number; gatewaySmtp: number; gatewayHttp: number; adminApi: number };
  apps: AppProcess[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A fake over HTTPS, as the real service is (the admin API's OpenID Connect client refuses plain http, and Mimecast
 * base URLs must be https): a TLS front on 127.0.0.1 passing every request to the fake's plain-http `upstream`. All
 * fronts of a stack share one throw-away self-signed certificate for that address, which the apps trust through
 * NODE_EXTRA_CA_CERTS; the browser context ignores certificate errors (the only https hosts in these tests).
 */
interface TestCertificate {
  dir: string;
  certificateFile: string;
  keyFile: string;
}

function testCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'mw-console-tls-'));
  const certificateFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2', '-keyout', keyFile, '-out', certificateFile], {
    stdio: 'ignore',
  });
  return { dir, certificateFile, keyFile };
}

async function httpsFront(certificate: TestCertificate, upstreamBaseUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(upstreamBaseUrl);
  const server: Server = createHttpsServer({ cert: readFileSync(certificate.certificateFile), key: readFileSync(certificate.keyFile) }, (request, response) => {
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How long one app may take to start: eight test runs can share the two cores, so well over the usual 30 s. */
const START_TIMEOUT_MS = 120_000;

/**
 * What a suite needs beyond the admin API and the scanner (which always get the integrations: Microsoft 365 through
 * the fake behind the TLS front, Mimecast, SIEM export): the journal ingest (default on; a suite that sends no journal
 * report starts faster without it).
 */
export interface ConsoleStackOptions {
  journal?: boolean;
}

export async function startConsoleStack(options: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const dns = new DnsTestServer({});
  const sink = new SmtpSink();
  const microsoft = new FakeMicrosoft365();
  const mimecast = new FakeMimecastServer({ v2: MIMECAST_CREDENTIALS });
  const [db, redis] = await Promise.all([createTestDatabase(), createTestRedis(), dns.start(), sink.start(), microsoft.start(), mimecast.start()]);
  const ports = { journalSmtp: await freePort(), journalHttp: await freePort(), gatewaySmtp: await freePort(), gatewayHttp: await freePort(), adminApi: await freePort() };
  const baseUrl = `http://127.0.0.1:${ports.adminApi}`;
  const certificate = testCertificate();
  const [microsoftFront, mimecastFront] = await Promise.all([httpsFront(certificate, microsoft.baseUrl), httpsFront(certificate, mimecast.baseUrl)]);
  microsoft.baseUrl = microsoftFront.url;
  const env = {
    ...faultAppEnv({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, dnsServer: dns.server, journalDomain: JOURNAL_DOMAIN, maxMessageSize: 10 * 1024 * 1024 }),
    NODE_EXTRA_CA_CERTS: certificate.certificateFile,
    // Integrations (Microsoft 365 through the fake, Mimecast, SIEM export): the same key in the admin API and the scanner.
    SECRETS_KEY: randomBytes(32).toString('base64'),
    M365_CLIENT_ID: microsoft.clientId,
    M365_CLIENT_SECRET: microsoft.clientSecret,
    M365_LOGIN_BASE_URL: microsoft.baseUrl,
    M365_GRAPH_BASE_URL: microsoft.baseUrl,
    EXPORT_FILE_DIR: path.join(certificate.dir, 'export'),
  };
  const identity = microsoft.identity;
  identity.redirectUris.add(`${baseUrl}/v1/auth/oidc/microsoft/callback`);
  const apps: AppProcess[] = [];
  const stopAll = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([dns.stop(), sink.stop(), microsoftFront.close(), mimecastFront.close()]);
    await Promise.all([microsoft.stop(), mimecast.stop()]);
    rmSync(certificate.dir, { recursive: true, force: true });
    await redis.cleanup();
    await db.drop();
  };
  try {
    // One after the other: starting three Nest apps at once on a busy machine is what makes starts time out.
    if (options.journal !== false) {
      apps.push(await startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(ports.journalSmtp), JOURNAL_HTTP_PORT: String(ports.journalHttp) }, /app\.listening/, START_TIMEOUT_MS));
    }
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
  return { db, redis, dns, sink, microsoft, mimecast, mimecastUrl: mimecastFront.url, factories: new TestFactories(db.prisma), baseUrl, ports, apps, env, stop: stopAll };
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
