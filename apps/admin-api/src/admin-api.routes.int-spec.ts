import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { EXPORTED_TOPICS, MessageRepository, PostgresRawMessageStore, type PrismaService } from '@mailwarden/db';
import { CONTENT_RULE_KINDS, DATA_CONTROL_OPTIONS, EMAIL_SECURITY_OPTIONS } from '@mailwarden/policy';
import { exportSchedulerId, mimecastPollSchedulerId, QueueName, redisOptionsFromUrl, type DeliveryJobData } from '@mailwarden/queue';
import { freePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { startTestAdminApi, type Json, type JsonReply, type TestAdminApi } from '../test/admin-api.harness';

type Reply = JsonReply;
interface OpenApiOperation {
  operationId?: string;
  security?: unknown[];
  responses?: Record<string, unknown>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: unknown;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
}

const MX_HOST = 'mx.mailwarden.test';

// Every authenticated call costs one scrypt check (about 100 ms by design), and the isolation test makes hundreds.
jest.setTimeout(120_000);
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `METHOD /openapi/path` pairs this suite called; the last test checks them against the OpenAPI document. */
const exercised = new Set<string>();

describe('admin API (real app over HTTP)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let redis: TestRedis;
  let baseUrl: string;
  let factories: TestFactories;
  let deliveryQueue: Queue<DeliveryJobData>;
  let fakeMimecast: Server;
  let fakeMimecastUrl: string;
  const txt = new Map<string, string[][]>();
  const mx = new Map<string, Array<{ exchange: string; priority: number }>>();

  // Partner A (the tenant story) and partner B (the other tenant).
  let partnerA: { id: string; key: string };
  let partnerB: { id: string; key: string };
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};

  const call = async (method: string, template: string, params: Record<string, string>, key: string | null, body?: unknown, query = ''): Promise<Reply> => {
    exercised.add(`${method} ${template}`);
    const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(params[name] ?? `missing-${name}`));
    return api.call(method, `${path}${query}`, key, body);
  };
  const expectStatus = (reply: Reply, status: number) => {
    if (reply.status !== status) {
      throw new Error(`expected ${status}, got ${reply.status}: ${reply.text}`);
    }
  };
  const A = () => ({ accountId: ids.contoso! });

  beforeAll(async () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    api = await startTestAdminApi({
      env: {
        JOURNAL_DOMAIN: 'journal.mailwarden.test',
        // Nothing listens there: the quick test reports the refused connection.
        SCANNER_SMTP_PORT: String(await freePort()),
        EXPORT_FILE_DIR: path.join(tmpdir(), `mw-admin-export-${process.pid}`),
      },
      overrides: {
        resolveDns: async (name, rrtype) => {
          const answer = rrtype === 'TXT' ? txt.get(name) : rrtype === 'MX' ? mx.get(name) : undefined;
          if (!answer) {
            throw coded('ENOTFOUND');
          }
          return answer;
        },
        journalQuietPeriodMs: 0,
        allowHttpMimecastBaseUrl: true,
      },
    });
    ({ db, redis, baseUrl } = api);
    factories = new TestFactories(db.prisma);
    deliveryQueue = new Queue<DeliveryJobData>(QueueName.Delivery, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    // A Mimecast stand-in that refuses every credential, as Mimecast answers a wrong client secret.
    fakeMimecast = createServer((_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'invalid_client' }));
    });
    await new Promise<void>((resolve) => fakeMimecast.listen(0, '127.0.0.1', resolve));
    fakeMimecastUrl = `http://127.0.0.1:${(fakeMimecast.address() as AddressInfo).port}`;

    const apiKeys = new TestFactories(db.prisma);
    for (const [name, target] of [['Partner A', 'a'], ['Partner B', 'b']] as const) {
      const partner = await db.prisma.partner.create({ data: { name } });
      const key = (await apiKeys.newApiKey({ name: `${name} admin`, role: 'PARTNER_ADMIN', partnerId: partner.id })).plaintext;
      if (target === 'a') {
        partnerA = { id: partner.id, key };
      } else {
        partnerB = { id: partner.id, key };
      }
    }
  });

  afterAll(async () => {
    await deliveryQueue?.close();
    await api?.close();
    await new Promise((resolve) => fakeMimecast?.close(resolve));
  });

  it('should answer 401 problem+json without a valid key, and for a revoked one', async () => {
    const none = await call('GET', '/v1/accounts', {}, null);
    expectStatus(none, 401);
    expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(none.body).toEqual({ type: 'urn:mailwarden:problem:unauthenticated', title: 'Unauthorized', status: 401, code: 'UNAUTHENTICATED', detail: expect.any(String) });
    expectStatus(await call('GET', '/v1/accounts', {}, 'mw_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'), 401);
    expectStatus(await call('GET', '/v1/accounts', {}, partnerA.key.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))), 401);
  });

  it('should let a partner create accounts and keys; tenant keys see one account; the plaintext key is shown once', async () => {
    const created = await call('POST', '/v1/accounts', {}, partnerA.key, { name: 'Contoso' });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ name: 'Contoso', monitorOnly: true, partnerId: partnerA.id, journalAddress: expect.stringMatching(/^j-[0-9a-f]+@journal\.mailwarden\.test$/) });
    ids.contoso = created.body.id as string;
    const fabrikam = await call('POST', '/v1/accounts', {}, partnerA.key, { name: 'Fabrikam', monitorOnly: false });
    expectStatus(fabrikam, 201);
    ids.fabrikam = fabrikam.body.id as string;
    const other = await call('POST', '/v1/accounts', {}, partnerB.key, { name: 'Northwind' });
    ids.northwind = other.body.id as string;

    expectStatus(await call('POST', '/v1/accounts', {}, partnerA.key, { name: 'x', extra: true }), 400);
    const tenant = await call('POST', '/v1/accounts/{accountId}/api-keys', A(), partnerA.key, { name: 'Contoso admin', role: 'TENANT_ADMIN' });
    expectStatus(tenant, 201);
    expect(tenant.body.key).toMatch(/^mw_[a-z0-9]{12}_[A-Za-z0-9_-]{32}$/);
    keys.tenant = tenant.body.key as string;
    ids.tenantKey = tenant.body.id as string;
    const readOnly = await call('POST', '/v1/accounts/{accountId}/api-keys', A(), keys.tenant, { name: 'SIEM', role: 'READ_ONLY' });
    expectStatus(readOnly, 201);
    keys.readOnly = readOnly.body.key as string;
    ids.readOnlyKey = readOnly.body.id as string;
    expectStatus(await call('POST', '/v1/accounts/{accountId}/api-keys', A(), keys.tenant, { name: 'escalate', role: 'PARTNER_ADMIN' }), 400);
    const northwindKey = await call('POST', '/v1/accounts/{accountId}/api-keys', { accountId: ids.northwind }, partnerB.key, { name: 'Northwind admin', role: 'TENANT_ADMIN' });
    keys.otherTenant = northwindKey.body.key as string;

    const listed = await call('GET', '/v1/accounts/{accountId}/api-keys', A(), keys.tenant);
    expectStatus(listed, 200);
    expect((listed.body.items as Json[]).map((key) => key.name).sort()).toEqual(['Contoso admin', 'SIEM']);
    expect(listed.text).not.toMatch(/"key"|hash|scrypt/);

    const mine = await call('GET', '/v1/accounts', {}, keys.tenant);
    expect((mine.body.items as Json[]).map((account) => account.id)).toEqual([ids.contoso]);
    const partnerPage1 = await call('GET', '/v1/accounts', {}, partnerA.key, undefined, '?limit=1');
    expect(partnerPage1.body.items).toHaveLength(1);
    const partnerPage2 = await call('GET', '/v1/accounts', {}, partnerA.key, undefined, `?limit=1&cursor=${partnerPage1.body.nextCursor as string}`);
    expect(partnerPage2.body.nextCursor).toBeNull();
    expect([...(partnerPage1.body.items as Json[]), ...(partnerPage2.body.items as Json[])].map((account) => account.name).sort()).toEqual(['Contoso', 'Fabrikam']);
    const badCursor = await call('GET', '/v1/accounts', {}, partnerA.key, undefined, '?cursor=bm9wZQ');
    expect(badCursor.body).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });

    const account = await call('GET', '/v1/accounts/{accountId}', A(), keys.readOnly);
    expect(account.body).toMatchObject({ id: ids.contoso, monitorOnly: true });
    const createByTenant = await call('POST', '/v1/accounts', {}, keys.tenant, { name: 'Nope' });
    expect(createByTenant.body).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
  });

  it('should add and verify domains, refusing a name twice and modes monitor-only forbids, with the reason (squatting: admin-api.hardening)', async () => {
    const added = await call('POST', '/v1/accounts/{accountId}/domains', A(), keys.tenant, { name: 'Contoso.Example.' });
    expectStatus(added, 201);
    expect(added.body).toMatchObject({ name: 'contoso.example', mode: 'JOURNAL', verificationStatus: 'PENDING', downstream: null });
    ids.domain = added.body.id as string;
    const token = (added.body.verificationRecord as Json).value as string;
    expect(token).toMatch(/^mailwarden-verification=[0-9a-f]{32}$/);

    const gatewayWhileMonitorOnly = await call('POST', '/v1/accounts/{accountId}/domains', A(), keys.tenant, { name: 'gw.contoso.example', mode: 'GATEWAY' });
    expect(gatewayWhileMonitorOnly.body).toMatchObject({ status: 409, code: 'MONITOR_ONLY_ALLOWS_JOURNAL_ONLY' });
    const twice = await call('POST', '/v1/accounts/{accountId}/domains', A(), keys.tenant, { name: 'contoso.example' });
    expect(twice.body).toMatchObject({ status: 409, code: 'DOMAIN_ALREADY_CONNECTED' });
    const invalid = await call('POST', '/v1/accounts/{accountId}/domains', A(), keys.tenant, { name: 'not a domain' });
    expect(invalid.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'name' })] });

    const notYet = await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/verify', { ...A(), domainId: ids.domain }, keys.tenant);
    expect(notYet.body).toMatchObject({ verified: false, txtRecords: [], dnsError: null, fromCache: false, domain: { verificationStatus: 'FAILED' } });
    txt.set('contoso.example', [['v=spf1 -all'], [token.slice(0, 20), token.slice(20)]]);
    // "No record" is cached for a few seconds, and the answer says so; bypassCache asks DNS again.
    const cached = await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/verify', { ...A(), domainId: ids.domain }, keys.tenant);
    expect(cached.body).toMatchObject({ verified: false, fromCache: true });
    const verified = await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/verify', { ...A(), domainId: ids.domain }, keys.tenant, undefined, '?bypassCache=true');
    expect(verified.body).toMatchObject({ verified: true, fromCache: false, domain: { verificationStatus: 'VERIFIED', verifiedAt: expect.any(String) } });

    const fabrikam = await call('POST', '/v1/accounts/{accountId}/domains', { accountId: ids.fabrikam }, partnerA.key, { name: 'fabrikam.example', mode: 'GATEWAY' });
    expect(fabrikam.body).toMatchObject({ mode: 'GATEWAY' });
    ids.fabrikamDomain = fabrikam.body.id as string;
    const spare = await call('POST', '/v1/accounts/{accountId}/domains', A(), keys.tenant, { name: 'old.contoso.example' });
    const removed = await call('DELETE', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: spare.body.id as string }, keys.tenant);
    expect(removed.body).toMatchObject({ name: 'old.contoso.example' });
    expectStatus(await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: spare.body.id as string }, keys.tenant), 404);

    const list = await call('GET', '/v1/accounts/{accountId}/domains', A(), keys.readOnly, undefined, '?limit=10');
    expect((list.body.items as Json[]).map((domain) => [domain.name, domain.mode, domain.verificationStatus])).toEqual([['contoso.example', 'JOURNAL', 'VERIFIED']]);
    const journal = await call('GET', '/v1/accounts/{accountId}/journal', A(), keys.readOnly);
    expect(journal.body).toMatchObject({ address: expect.stringMatching(/@journal\.mailwarden\.test$/), instructions: { microsoft365: expect.any(Array), googleWorkspace: expect.any(Array) } });
    expect((journal.body.instructions as { microsoft365: string[] }).microsoft365.join(' ')).toMatch(/Global/);
  });

  it('should walk monitor-only → Advanced (gateway) to the end, manual steps proven by their checks', async () => {
    const noMx = await call('POST', '/v1/accounts/{accountId}/mode-migrations', A(), keys.tenant, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY' });
    expect(noMx.body).toMatchObject({ status: 400, code: 'INVALID_PLAN' });
    const planned = await call('POST', '/v1/accounts/{accountId}/mode-migrations', A(), keys.tenant, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY', gatewayMxHost: MX_HOST });
    expectStatus(planned, 201);
    ids.migration = planned.body.id as string;
    expect(planned.body).toMatchObject({ status: 'PLANNED', params: { targetMode: 'GATEWAY', gatewayMxHost: MX_HOST, domains: [{ name: 'contoso.example' }] } });
    expect((planned.body.steps as Json[]).map((step) => [step.key, step.kind, step.status])).toEqual([
      ['accept-mail-on-both-paths', 'AUTOMATED', 'PENDING'],
      ['complete-gateway-setup', 'MANUAL', 'PENDING'],
      ['turn-monitor-only-off', 'AUTOMATED', 'PENDING'],
      ['add-domains-in-gateway-mode', 'AUTOMATED', 'PENDING'],
      ['disconnect-domains-from-journaling', 'AUTOMATED', 'PENDING'],
      ['remove-journal-rules', 'MANUAL', 'PENDING'],
    ]);
    const badWait = await call('POST', '/v1/accounts/{accountId}/mode-migrations', A(), keys.tenant, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY', quietPeriodSeconds: -5 });
    expect(badWait.body).toMatchObject({ status: 400 });
    const second = await call('POST', '/v1/accounts/{accountId}/mode-migrations', A(), keys.tenant, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' });
    expect(second.body).toMatchObject({ status: 409, code: 'MIGRATION_ALREADY_ACTIVE' });

    const params = { ...A(), migrationId: ids.migration };
    // Two admins advancing at once are serialized by the account's advisory lock: each step runs once.
    const [first, concurrent] = await Promise.all([
      call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, keys.tenant, {}),
      call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, partnerA.key, {}),
    ]);
    expectStatus(first, 200);
    expectStatus(concurrent, 200);
    const waiting = await call('GET', '/v1/accounts/{accountId}/mode-migrations/{migrationId}', params, keys.readOnly);
    expect(waiting.body.status).toBe('WAITING');
    const steps = waiting.body.steps as Json[];
    // The gateway already accepts the domain (overlap window), but nothing switches before MX is proven.
    expect(steps.map((step) => step.status)).toEqual(['DONE', 'WAITING_FOR_ADMIN', 'PENDING', 'PENDING', 'PENDING', 'PENDING']);
    expect(steps[0]!.attempts).toBe(1);
    expect(steps[1]!.instruction).toMatch(new RegExp(`MX records of contoso\\.example at ${MX_HOST.replace(/\./g, '\\.')}`));
    expect(steps[1]!.result).toMatchObject({ passed: false, available: true, evidence: { missingDownstreamRoute: ['contoso.example'] } });
    expect((await call('GET', '/v1/accounts/{accountId}', A(), keys.tenant)).body.monitorOnly).toBe(true);
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: ids.domain }, keys.tenant)).body).toMatchObject({ mode: 'JOURNAL', transitionMode: 'GATEWAY' });

    const route = await call('PUT', '/v1/accounts/{accountId}/domains/{domainId}/downstream', { ...A(), domainId: ids.domain }, keys.tenant, {
      host: 'contoso-example.mail.protection.outlook.com',
      port: 25,
      requireTls: true,
      verifyCert: true,
    });
    expect(route.body).toMatchObject({ downstream: { host: 'contoso-example.mail.protection.outlook.com', port: 25 } });
    const stillWaiting = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, keys.tenant, {});
    expect(stillWaiting.body.status).toBe('WAITING');
    expect((stillWaiting.body.steps as Json[])[1]!.result).toMatchObject({ passed: false, message: expect.stringMatching(/contoso\.example \(no MX records\)/) });

    mx.set('contoso.example', [{ exchange: `${MX_HOST}.`, priority: 10 }]);
    const done = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, keys.tenant, {});
    expect(done.body).toMatchObject({ status: 'COMPLETED', completedAt: expect.any(String) });
    expect((done.body.steps as Json[]).every((step) => step.status === 'DONE')).toBe(true);
    const again = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, keys.tenant, {});
    expect(again.body).toMatchObject({ status: 409, code: 'MIGRATION_FINISHED' });

    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: ids.migration, action: 'mode_migration.step_completed' } });
    expect(audit.map((event) => (event.after as Json).step).sort()).toEqual([
      'accept-mail-on-both-paths',
      'add-domains-in-gateway-mode',
      'complete-gateway-setup',
      'disconnect-domains-from-journaling',
      'remove-journal-rules',
      'turn-monitor-only-off',
    ]);
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: ids.domain }, keys.tenant)).body).toMatchObject({ mode: 'GATEWAY', transitionMode: null });
  });

  it('should walk Advanced → monitor-only with MX and journal checks, retry a waiting check, and cancel a migration', async () => {
    const fab = { accountId: ids.fabrikam };
    mx.set('fabrikam.example', [{ exchange: MX_HOST, priority: 10 }]);
    const planned = await call('POST', '/v1/accounts/{accountId}/mode-migrations', fab, partnerA.key, { kind: 'ADVANCED_TO_MONITOR_ONLY', gatewayMxHost: MX_HOST });
    expectStatus(planned, 201);
    const params = { ...fab, migrationId: planned.body.id as string };
    const nothingToRetry = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/retry', params, partnerA.key, {});
    expect(nothingToRetry.body).toMatchObject({ status: 409, code: 'NOTHING_TO_RETRY' });
    const waitingJournal = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, partnerA.key, {});
    expect((waitingJournal.body.steps as Json[]).map((step) => step.status)).toEqual(['DONE', 'WAITING_FOR_ADMIN', 'PENDING', 'PENDING', 'PENDING', 'PENDING', 'PENDING']);
    // The journal ingest stores the admin's test message: a journal copy of the domain after the step started.
    await factories.newMessage({ id: ids.fabrikam }, { source: 'JOURNAL', envelopeTo: ['someone@fabrikam.example'] });
    const waitingMx = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', params, partnerA.key, {});
    expect((waitingMx.body.steps as Json[]).map((step) => step.status)).toEqual(['DONE', 'DONE', 'WAITING_FOR_ADMIN', 'PENDING', 'PENDING', 'PENDING', 'PENDING']);
    expect((waitingMx.body.steps as Json[])[1]!.result).toMatchObject({ passed: true, evidence: { check: 'journal-message-seen', messageId: expect.any(String) } });
    // MX still names Mailwarden: the domain keeps its mode (no bounce), monitor-only stays off.
    expect((await call('GET', '/v1/accounts/{accountId}', fab, partnerA.key)).body.monitorOnly).toBe(false);
    mx.set('fabrikam.example', [{ exchange: 'fabrikam-example.mail.protection.outlook.com', priority: 0 }]);
    const completed = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/retry', params, partnerA.key, {});
    expect(completed.body.status).toBe('COMPLETED');
    expect((await call('GET', '/v1/accounts/{accountId}', fab, partnerA.key)).body.monitorOnly).toBe(true);
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...fab, domainId: ids.fabrikamDomain }, partnerA.key)).body.mode).toBe('JOURNAL');

    const wrongMode = await call('POST', '/v1/accounts/{accountId}/mode-migrations', fab, partnerA.key, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: MX_HOST });
    expect(wrongMode.body).toMatchObject({ status: 409, code: 'WRONG_STARTING_MODE' });

    // Gateway → Mailflow on Contoso: its Microsoft 365 checks are not built, so it waits until cancelled.
    // gatewayMxHost is not asked again: the account's earlier plan named it.
    const toMailflow = await call('POST', '/v1/accounts/{accountId}/mode-migrations', A(), keys.tenant, { kind: 'GATEWAY_TO_MAILFLOW' });
    expectStatus(toMailflow, 201);
    expect(toMailflow.body.params).toMatchObject({ gatewayMxHost: MX_HOST });
    const mfParams = { ...A(), migrationId: toMailflow.body.id as string };
    const unverifiable = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', mfParams, keys.tenant, {});
    expect((unverifiable.body.steps as Json[])[1]).toMatchObject({ status: 'WAITING_FOR_ADMIN', result: { passed: false, available: false, message: expect.stringMatching(/^not available yet/) } });
    const cancelled = await call('POST', '/v1/accounts/{accountId}/mode-migrations/{migrationId}/cancel', mfParams, keys.tenant);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect((cancelled.body.steps as Json[]).slice(1).every((step) => step.status === 'SKIPPED')).toBe(true);
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: ids.domain }, keys.tenant)).body.mode).toBe('GATEWAY');
    const list = await call('GET', '/v1/accounts/{accountId}/mode-migrations', A(), keys.readOnly, undefined, '?limit=1');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.nextCursor).toEqual(expect.any(String));
  });

  it('should register the Microsoft 365 connector a Mailflow domain needs, validate its ranges, and refuse removing it while in use', async () => {
    const missing = await call('GET', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.readOnly);
    expect(missing.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const tooBroad = await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.tenant, { sourceIps: ['40.92.0.0/15', '0.0.0.0/0'] });
    expect(tooBroad.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(tooBroad.text).toMatch(/too broad/);
    const garbage = await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.tenant, { sourceIps: ['mail.example'], tlsCertName: 'not a name' });
    expect(garbage.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    const empty = await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.tenant, { sourceIps: [], tlsCertName: null });
    expect(empty.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'sourceIps', code: 'required' }] });
    expect((await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.readOnly, { sourceIps: ['40.92.0.0/15'] })).body).toMatchObject({ status: 403, code: 'READ_ONLY_KEY' });

    const saved = await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.tenant, {
      sourceIps: ['40.92.0.0/15', '2A01:111:F400::/48', '40.92.0.0/15'],
      tlsCertName: 'Mail.Protection.Outlook.com.',
    });
    expectStatus(saved, 200);
    expect(saved.body).toMatchObject({ accountId: ids.contoso, sourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], tlsCertName: 'mail.protection.outlook.com' });
    expect((await call('GET', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.readOnly)).body).toMatchObject({ tlsCertName: 'mail.protection.outlook.com' });
    // The cancelled Gateway -> Mailflow plan left contoso.example's overlap window open: the connector is in use.
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}', { ...A(), domainId: ids.domain }, keys.tenant)).body).toMatchObject({ mode: 'GATEWAY', transitionMode: 'MAILFLOW' });
    const inUse = await call('DELETE', '/v1/accounts/{accountId}/mailflow-connector', A(), keys.tenant);
    expect(inUse.body).toMatchObject({ status: 409, code: 'CONNECTOR_IN_USE', detail: expect.stringContaining('contoso.example') });

    const fab = { accountId: ids.fabrikam };
    expectStatus(await call('PUT', '/v1/accounts/{accountId}/mailflow-connector', fab, partnerA.key, { sourceIps: ['203.0.113.0/24'] }), 200);
    const removed = await call('DELETE', '/v1/accounts/{accountId}/mailflow-connector', fab, partnerA.key);
    expect(removed.body).toMatchObject({ accountId: ids.fabrikam, sourceIps: ['203.0.113.0/24'] });
    expectStatus(await call('GET', '/v1/accounts/{accountId}/mailflow-connector', fab, partnerA.key), 404);
    const audit = await db.prisma.auditEvent.findMany({ where: { objectType: 'mailflow_connector' }, orderBy: { at: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['mailflow_connector.saved', 'mailflow_connector.saved', 'mailflow_connector.removed']);
  });

  it('should validate, store and resolve policies at every scope, honouring partner locks', async () => {
    const user = await call('POST', '/v1/accounts/{accountId}/mailboxes', A(), keys.tenant, { email: 'Alice@Contoso.Example', displayName: 'Alice' });
    expectStatus(user, 201);
    expect(user.body).toMatchObject({ email: 'alice@contoso.example', displayName: 'Alice' });
    const group = await call('POST', '/v1/accounts/{accountId}/groups', A(), keys.tenant, { name: 'Finance', members: ['alice@contoso.example'] });
    expectStatus(group, 201);
    expect(group.body).toMatchObject({ name: 'Finance', members: ['alice@contoso.example'] });
    ids.user = String(user.body.id);
    ids.group = String(group.body.id);
    const policy = (scope: string, scopeId: string) => ({ ...A(), kind: 'email-security', scope, scopeId });

    const invalid = await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('account', ids.contoso!), keys.tenant, {
      settings: { senderChecks: { dkim: { action: 'EXPLODE' } }, bogus: 1 },
      locks: ['no.such.option'],
    });
    expect(invalid.body).toMatchObject({ status: 400, code: 'POLICY_INVALID' });
    expect((invalid.body.errors as Json[]).map((error) => error.field)).toEqual(expect.arrayContaining(['settings.senderChecks.dkim.action', 'settings.bogus']));
    expect((invalid.body.errors as Json[]).some((error) => String(error.field).startsWith('locks'))).toBe(true);

    const partner = await call('PUT', '/v1/partner/policies/{kind}', { kind: 'email-security' }, partnerA.key, { settings: { senderChecks: { dmarc: { action: 'REJECT' } } }, locks: ['senderChecks.dmarc'] });
    expectStatus(partner, 200);
    expect((await call('GET', '/v1/partner/policies/{kind}', { kind: 'email-security' }, partnerA.key)).body).toMatchObject({ scope: 'PARTNER', locks: ['senderChecks.dmarc'] });
    expect((await call('PUT', '/v1/partner/policies/{kind}', { kind: 'email-security' }, keys.tenant, { settings: {}, locks: [] })).body).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
    const locked = await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('account', ids.contoso!), keys.tenant, { settings: { senderChecks: { dmarc: { action: 'DELIVER' } } }, locks: [] });
    expect(locked.body).toMatchObject({ status: 409, code: 'OPTION_LOCKED', errors: [{ field: 'settings.senderChecks.dmarc.action', code: 'OPTION_LOCKED' }] });

    const account = await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('account', ids.contoso!), keys.tenant, {
      settings: { senderChecks: { dkim: { action: 'QUARANTINE' } }, subjectTag: '[EXTERNAL]' },
      locks: ['subjectTag'],
    });
    expectStatus(account, 200);
    expectStatus(await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('domain', ids.domain!), keys.tenant, { settings: { blockList: { domains: ['spam.example'] } }, locks: [] }), 200);
    expectStatus(await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('group', ids.group), keys.tenant, { settings: { senderChecks: { spf: { action: 'QUARANTINE' } } }, locks: [] }), 200);
    expectStatus(
      await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', { ...policy('user', ids.user), kind: 'data-control' }, keys.tenant, {
        settings: { enabled: true, rules: [{ id: 'cards', kind: 'card-number', enabled: true, action: 'QUARANTINE', directions: ['OUTBOUND'] }] },
        locks: [],
      }),
      200,
    );
    const stored = await call('GET', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('domain', ids.domain!), keys.readOnly);
    expect(stored.body).toMatchObject({ scope: 'DOMAIN', scopeId: ids.domain, settings: { blockList: { domains: ['spam.example'] } } });
    const foreignScope = await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', policy('domain', ids.fabrikamDomain!), keys.tenant, { settings: {}, locks: [] });
    expectStatus(foreignScope, 404);

    const effective = await call('GET', '/v1/accounts/{accountId}/policies/effective', A(), keys.readOnly, undefined, '?recipient=Alice@Contoso.Example');
    expectStatus(effective, 200);
    const email = effective.body.emailSecurity as { settings: Json; options: Record<string, Json> };
    expect(email.settings).toMatchObject({ subjectTag: '[EXTERNAL]', senderChecks: { dkim: { action: 'QUARANTINE' }, dmarc: { action: 'REJECT' }, spf: { action: 'QUARANTINE' } } });
    expect(email.options['senderChecks.dkim.action']).toMatchObject({ source: { level: 'ACCOUNT', id: ids.contoso }, locked: false });
    expect(email.options['senderChecks.spf.action']).toMatchObject({ source: { level: 'GROUP', id: ids.group } });
    expect(email.options['senderChecks.dmarc.action']).toMatchObject({ locked: true, lockedBy: { level: 'PARTNER', id: partnerA.id } });
    expect(email.options['blockList.domains']).toMatchObject({ source: { level: 'DOMAIN', id: ids.domain } });
    expect((effective.body.dataControl as { settings: { rules: Json[] } }).settings.rules).toEqual([expect.objectContaining({ id: 'cards', kind: 'card-number' })]);
    expect(effective.body.target).toMatchObject({ userId: ids.user, groupIds: [ids.group], domainId: ids.domain, partnerId: partnerA.id });
  });

  it('should manage mailboxes and groups: duplicates refused, members must exist, every change audited', async () => {
    expect((await call('POST', '/v1/accounts/{accountId}/mailboxes', A(), keys.tenant, { email: 'alice@contoso.example' })).body).toMatchObject({ status: 409, code: 'CONFLICT' });
    const bob = await call('POST', '/v1/accounts/{accountId}/mailboxes', A(), keys.tenant, { email: 'bob@contoso.example' });
    expectStatus(bob, 201);
    const unknownMember = await call('POST', '/v1/accounts/{accountId}/groups', A(), keys.tenant, { name: 'Sales', members: ['nobody@contoso.example'] });
    expect(unknownMember.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'members', code: 'UNKNOWN_MAILBOX' }] });
    expect((await call('POST', '/v1/accounts/{accountId}/groups', A(), keys.tenant, { name: 'Finance' })).body).toMatchObject({ status: 409, code: 'CONFLICT' });

    const sales = await call('POST', '/v1/accounts/{accountId}/groups', A(), keys.tenant, { name: 'Sales' });
    expectStatus(sales, 201);
    const members = await call('PUT', '/v1/accounts/{accountId}/groups/{groupId}/members', { ...A(), groupId: String(sales.body.id) }, keys.tenant, { members: ['bob@contoso.example', 'alice@contoso.example'] });
    expect(members.body).toMatchObject({ members: ['alice@contoso.example', 'bob@contoso.example'] });

    const mailboxes = await call('GET', '/v1/accounts/{accountId}/mailboxes', A(), keys.readOnly, undefined, '?limit=1');
    expect(mailboxes.body).toMatchObject({ items: [{ email: 'alice@contoso.example' }], nextCursor: expect.any(String) });
    const second = await call('GET', '/v1/accounts/{accountId}/mailboxes', A(), keys.readOnly, undefined, `?limit=1&cursor=${String(mailboxes.body.nextCursor)}`);
    expect(second.body).toMatchObject({ items: [{ email: 'bob@contoso.example' }] });
    const groups = await call('GET', '/v1/accounts/{accountId}/groups', A(), keys.readOnly);
    expect((groups.body.items as Json[]).map((entry) => entry.name)).toEqual(['Finance', 'Sales']);

    expectStatus(await call('DELETE', '/v1/accounts/{accountId}/groups/{groupId}', { ...A(), groupId: String(sales.body.id) }, keys.tenant), 200);
    expectStatus(await call('DELETE', '/v1/accounts/{accountId}/mailboxes/{mailboxId}', { ...A(), mailboxId: String(bob.body.id) }, keys.tenant), 200);
    expectStatus(await call('DELETE', '/v1/accounts/{accountId}/mailboxes/{mailboxId}', { ...A(), mailboxId: String(bob.body.id) }, keys.tenant), 404);
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: ids.contoso, objectType: { in: ['mailbox', 'group'] } }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['mailbox.added', 'group.added', 'mailbox.added', 'group.added', 'group.members_set', 'group.removed', 'mailbox.removed']);
  });

  it('should search message history and show each check with its evidence; raw download is audited', async () => {
    const when = new Date(Date.now() - 60_000);
    const scanned = await factories.newMessage({ id: ids.contoso! }, {
      source: 'GATEWAY',
      envelopeFrom: 'ceo@contoso-payments.example',
      envelopeTo: ['alice@contoso.example', 'bob@contoso.example'],
      subject: 'Urgent wire transfer',
      messageIdHeader: '<wire-1@contoso-payments.example>',
      receivedAt: when,
    });
    const older = await factories.newMessage({ id: ids.contoso! }, { source: 'GATEWAY', subject: 'Lunch', receivedAt: new Date(when.getTime() - 1000) });
    ids.message = scanned.id;
    const checks = [
      { check: 'dmarc', result: 'pass', evidence: { policy: 'none', headerFrom: 'contoso-payments.example' } },
      { check: 'spf', result: 'pass', evidence: { domain: 'contoso-payments.example', ip: '192.0.2.10' } },
      { check: 'dkim', result: 'fail', evidence: { domain: 'contoso-payments.example', selector: 's1', reason: 'body hash did not verify' } },
    ];
    const verdicts = [];
    for (const recipient of ['alice@contoso.example', 'bob@contoso.example']) {
      verdicts.push(
        await db.prisma.verdict.create({
          data: { messageId: scanned.id, recipient, checks, failedCheck: 'dkim', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, reasons: [{ code: 'dkim-fail' }] },
        }),
      );
    }
    await db.prisma.message.update({ where: { id: scanned.id }, data: { scanStatus: 'SCANNED', scannedAt: new Date(), deliveryState: 'QUARANTINED' } });
    const held = [];
    for (const verdict of verdicts) {
      held.push(await db.prisma.quarantineItem.create({ data: { accountId: ids.contoso!, messageId: scanned.id, verdictId: verdict.id, recipient: verdict.recipient, reason: 'dkim: signature failed verification', enforced: true } }));
    }
    ids.heldAlice = held[0]!.id;
    ids.heldBob = held[1]!.id;
    const monitorVerdict = await db.prisma.verdict.create({
      data: { messageId: older.id, recipient: older.envelopeTo[0]!, checks: [], decidedAction: 'QUARANTINE', appliedAction: null, enforced: false },
    });
    ids.monitorItem = (await db.prisma.quarantineItem.create({ data: { accountId: ids.contoso!, messageId: older.id, verdictId: monitorVerdict.id, recipient: older.envelopeTo[0]!, reason: 'would quarantine', enforced: false } })).id;

    const search = (query: string) => call('GET', '/v1/accounts/{accountId}/messages', A(), keys.readOnly, undefined, query);
    const ids_ = (reply: Reply) => (reply.body.items as Json[]).map((item) => item.id);
    expect(ids_(await search('?sender=CEO@contoso-payments.example'))).toEqual([scanned.id]);
    expect(ids_(await search('?recipient=bob@contoso.example'))).toEqual([scanned.id]);
    expect(ids_(await search('?subject=wire'))).toEqual([scanned.id]);
    const tooShort = await search('?subject=wi');
    expect(tooShort.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'subject' })] });
    expect(ids_(await search(`?messageId=${encodeURIComponent('<wire-1@contoso-payments.example>')}`))).toEqual([scanned.id]);
    expect(ids_(await search('?failedCheck=dkim&action=QUARANTINE&source=GATEWAY&direction=INBOUND'))).toEqual([scanned.id]);
    expect(ids_(await search('?failedCheck=spf'))).toEqual([]);
    expect(ids_(await search(`?from=${encodeURIComponent(new Date(when.getTime() - 500).toISOString())}`))).toEqual([scanned.id]);
    const first = await search('?source=GATEWAY&limit=1');
    expect(ids_(first)).toEqual([scanned.id]);
    const next = await search(`?source=GATEWAY&limit=1&cursor=${first.body.nextCursor as string}`);
    expect(ids_(next)).toEqual([older.id]);
    expect(next.body.nextCursor).toBeNull();

    const detail = await call('GET', '/v1/accounts/{accountId}/messages/{messageId}', { ...A(), messageId: scanned.id }, keys.readOnly);
    expect(detail.body).toMatchObject({ subject: 'Urgent wire transfer', deliveryState: 'QUARANTINED', scanStatus: 'SCANNED' });
    expect((detail.body.verdicts as Json[])[0]).toMatchObject({ recipient: 'alice@contoso.example', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, failedCheck: 'dkim', checks });
    expect(detail.body.quarantine).toHaveLength(2);
    // A message whose scan failed for good shows FAILED with the reason (issue 12).
    await db.prisma.message.update({ where: { id: older.id }, data: { scanStatus: 'FAILED', scanError: 'scan failed 5 times: Invalid string length' } });
    const failedScan = await call('GET', '/v1/accounts/{accountId}/messages/{messageId}', { ...A(), messageId: older.id }, keys.readOnly);
    expect(failedScan.body).toMatchObject({ scanStatus: 'FAILED', scanError: 'scan failed 5 times: Invalid string length' });

    const raw = await call('GET', '/v1/accounts/{accountId}/messages/{messageId}/raw', { ...A(), messageId: scanned.id }, keys.readOnly);
    expectStatus(raw, 200);
    expect(raw.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(raw.text).toMatch(/^From: ceo@contoso-payments\.example\r\n/);
    expect(raw.text).toMatch(/Subject: Urgent wire transfer/);
  });

  it('should search history by sender domain (envelope or header From) and by data-control rule (issue 13)', async () => {
    const search = (query: string) => call('GET', '/v1/accounts/{accountId}/messages', A(), keys.readOnly, undefined, query);
    const found = async (query: string) => {
      const reply = await search(query);
      expectStatus(reply, 200);
      return (reply.body.items as Json[]).map((item) => item.id);
    };
    const byHeader = await factories.newMessage({ id: ids.contoso! }, { source: 'GATEWAY', envelopeFrom: 'bounces@mailer.example', headerFrom: 'News@Partner-Payments.example' });
    const leaked = await factories.newMessage({ id: ids.contoso! }, { source: 'GATEWAY', direction: 'OUTBOUND', envelopeFrom: 'alice@contoso.example', envelopeTo: ['someone@elsewhere.example'] });
    const reason = (source: string) => ({ kind: 'data-control', source, action: 'QUARANTINE', detail: `data control rule ${source} matched` });
    await db.prisma.verdict.create({
      data: { messageId: leaked.id, recipient: 'someone@elsewhere.example', checks: [], decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, reasons: [reason('cards'), reason('keywords')] },
    });
    await db.prisma.verdict.create({
      data: { messageId: byHeader.id, recipient: byHeader.envelopeTo[0]!, checks: [], decidedAction: 'DELIVER', enforced: true, reasons: [{ kind: 'sender-check', source: 'cards', action: 'DELIVER', detail: 'not a rule' }] },
    });
    expect(await found('?senderDomain=CONTOSO-PAYMENTS.example')).toEqual([ids.message]);
    expect(await found('?senderDomain=partner-payments.example')).toEqual([byHeader.id]);
    expect(await found('?senderDomain=mailer.example')).toEqual([byHeader.id]);
    expect(await found('?senderDomain=payments.example')).toEqual([]);
    expect(await found('?dataControlRule=cards')).toEqual([leaked.id]);
    expect(await found('?dataControlRule=keywords&senderDomain=contoso.example')).toEqual([leaked.id]);
    expect(await found('?dataControlRule=no-such-rule')).toEqual([]);
    const bad = await search('?senderDomain=%25@x');
    expect(bad.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'senderDomain' })] });
    // Another tenant's search never finds Contoso's mail by domain.
    const other = await call('GET', '/v1/accounts/{accountId}/messages', { accountId: ids.northwind! }, partnerB.key, undefined, '?senderDomain=contoso-payments.example');
    expect(other.body.items).toEqual([]);
  });

  it('should release and delete quarantined messages, queue the delivery job, and refuse monitor-only items with 409', async () => {
    const list = await call('GET', '/v1/accounts/{accountId}/quarantine', A(), keys.readOnly, undefined, '?status=HELD&enforced=true');
    expect((list.body.items as Json[]).map((item) => item.id).sort()).toEqual([ids.heldAlice, ids.heldBob].sort());

    const released = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release', { ...A(), itemId: ids.heldAlice! }, keys.tenant);
    expect(released.body).toMatchObject({ status: 'RELEASED', releasedAt: expect.any(String), recipient: 'alice@contoso.example' });
    const job = await deliveryQueue.getJob(`release-${ids.heldAlice}`);
    expect(job?.data).toEqual({ messageId: ids.message, recipients: ['alice@contoso.example'], quarantineItemId: ids.heldAlice });
    const twice = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release', { ...A(), itemId: ids.heldAlice! }, keys.tenant);
    expect(twice.body.status).toBe('RELEASED');
    expect(await deliveryQueue.getJobCounts('waiting', 'delayed', 'active')).toMatchObject({ waiting: 1 });

    const monitorOnly = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release', { ...A(), itemId: ids.monitorItem! }, keys.tenant);
    expect(monitorOnly.body).toMatchObject({ status: 409, code: 'QUARANTINE_NOT_ENFORCED', detail: expect.stringMatching(/monitor-only.*nothing to release/) });
    expect(monitorOnly.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const deleted = await call('DELETE', '/v1/accounts/{accountId}/quarantine/{itemId}', { ...A(), itemId: ids.heldBob! }, keys.tenant);
    expect(deleted.body.status).toBe('DELETED');
    const releaseDeleted = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release', { ...A(), itemId: ids.heldBob! }, keys.tenant);
    expect(releaseDeleted.body).toMatchObject({ status: 409, code: 'QUARANTINE_ITEM_DELETED' });
    expect(await deliveryQueue.getJob(`release-${ids.heldBob}`)).toBeUndefined();

    const unknown = '00000000-0000-4000-8000-000000000000';
    const bulk = await call('POST', '/v1/accounts/{accountId}/quarantine/release', A(), keys.tenant, { ids: [ids.heldAlice, ids.monitorItem, ids.heldBob, unknown] });
    expect((bulk.body.results as Json[]).map((result) => result.outcome)).toEqual(['ALREADY_RELEASED', 'NOT_ENFORCED', 'ALREADY_DELETED', 'NOT_FOUND']);
    const bulkDelete = await call('POST', '/v1/accounts/{accountId}/quarantine/delete', A(), keys.tenant, { ids: [ids.heldBob, ids.heldAlice, ids.monitorItem] });
    expect((bulkDelete.body.results as Json[]).map((result) => result.outcome)).toEqual(['ALREADY_DELETED', 'ALREADY_RELEASED', 'NOT_ENFORCED']);
  });

  it('should label monitor-only items, show every reason, and release-and-allow or delete-and-block the sender (issue 13)', async () => {
    const reasons = [
      { kind: 'sender-check', source: 'dmarc', action: 'QUARANTINE', detail: 'dmarc: fail (p=quarantine)' },
      { kind: 'data-control', source: 'cards', action: 'QUARANTINE', detail: 'data control rule cards matched' },
    ];
    const hold = async (envelopeFrom: string, enforced: boolean) => {
      const message = await factories.newMessage({ id: ids.contoso! }, { source: enforced ? 'GATEWAY' : 'JOURNAL', envelopeFrom, envelopeTo: ['carol@contoso.example'] });
      const verdict = await db.prisma.verdict.create({
        data: { messageId: message.id, recipient: 'carol@contoso.example', checks: [], failedCheck: 'dmarc', decidedAction: 'QUARANTINE', appliedAction: enforced ? 'QUARANTINE' : null, enforced, reasons },
      });
      return (await db.prisma.quarantineItem.create({ data: { accountId: ids.contoso!, messageId: message.id, verdictId: verdict.id, recipient: 'carol@contoso.example', reason: reasons[0]!.detail, enforced } })).id;
    };
    const toAllow = await hold('Friend@Partner.example', true);
    const toBlock = await hold('spammer@bulk.example', true);
    const watched = await hold('spoof@contoso.example', false);

    const monitorOnly = await call('GET', '/v1/accounts/{accountId}/quarantine', A(), keys.readOnly, undefined, '?status=WOULD_HAVE_BEEN_QUARANTINED');
    expect((monitorOnly.body.items as Json[]).map((item) => item.id)).toEqual([watched, ids.monitorItem]);
    expect((monitorOnly.body.items as Json[])[0]).toMatchObject({ status: 'WOULD_HAVE_BEEN_QUARANTINED', label: 'would have been quarantined', enforced: false, reasons });
    const held = await call('GET', '/v1/accounts/{accountId}/quarantine', A(), keys.readOnly, undefined, '?status=HELD');
    expect((held.body.items as Json[]).map((item) => item.id)).toEqual([toBlock, toAllow]);
    expect((held.body.items as Json[])[0]).toMatchObject({ status: 'HELD', label: 'held', reason: reasons[0]!.detail, reasons });
    expect((await call('GET', '/v1/accounts/{accountId}/quarantine', A(), keys.readOnly, undefined, '?status=HELD&enforced=false')).body.items).toEqual([]);

    const allowed = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release-and-allow-sender', { ...A(), itemId: toAllow }, keys.tenant);
    expectStatus(allowed, 200);
    expect(allowed.body).toMatchObject({ sender: 'friend@partner.example', list: 'allowList', item: { id: toAllow, status: 'RELEASED', label: 'released' }, policy: { scope: 'ACCOUNT' } });
    expect((allowed.body.policy as { settings: { allowList: { addresses: string[] } } }).settings.allowList.addresses).toEqual(['friend@partner.example']);
    expect(await deliveryQueue.getJob(`release-${toAllow}`)).toBeDefined();
    // The rest of the stored account policy is kept (subjectTag and its lock from the policy test).
    const stored = await call('GET', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', { ...A(), kind: 'email-security', scope: 'account', scopeId: ids.contoso! }, keys.readOnly);
    expect(stored.body).toMatchObject({ settings: { subjectTag: '[EXTERNAL]', allowList: { addresses: ['friend@partner.example'] } }, locks: ['subjectTag'] });

    const blocked = await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/delete-and-block-sender', { ...A(), itemId: toBlock }, keys.tenant);
    expect(blocked.body).toMatchObject({ sender: 'spammer@bulk.example', list: 'blockList', item: { status: 'DELETED' } });
    const effective = await call('GET', '/v1/accounts/{accountId}/policies/effective', A(), keys.readOnly, undefined, '?recipient=carol@contoso.example');
    expect((effective.body.emailSecurity as { settings: Json }).settings).toMatchObject({ allowList: { addresses: ['friend@partner.example'] }, blockList: { addresses: ['spammer@bulk.example'] } });

    // Refused before anything changes: a monitor-only item, an item in the other final state.
    const policyBefore = await db.prisma.policy.findFirst({ where: { accountId: ids.contoso, scope: 'ACCOUNT', kind: 'EMAIL_SECURITY' } });
    expect((await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release-and-allow-sender', { ...A(), itemId: watched }, keys.tenant)).body).toMatchObject({ status: 409, code: 'QUARANTINE_NOT_ENFORCED' });
    expect((await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/release-and-allow-sender', { ...A(), itemId: toBlock }, keys.tenant)).body).toMatchObject({ status: 409, code: 'QUARANTINE_ITEM_DELETED' });
    expect((await call('POST', '/v1/accounts/{accountId}/quarantine/{itemId}/delete-and-block-sender', { ...A(), itemId: toAllow }, keys.tenant)).body).toMatchObject({ status: 409, code: 'QUARANTINE_ITEM_RELEASED' });
    expect(await db.prisma.policy.findFirst({ where: { accountId: ids.contoso, scope: 'ACCOUNT', kind: 'EMAIL_SECURITY' } })).toEqual(policyBefore);
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: ids.contoso, objectId: { in: [toAllow, toBlock] } }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['quarantine.released', 'quarantine.deleted']);
  });

  it("should show each recipient's delivery state and event history, quarantine actions included (issue 13)", async () => {
    // A split message: Alice's copy was released and delivered, Bob's deleted.
    await db.prisma.recipientDelivery.createMany({
      data: [
        { messageId: ids.message!, recipient: 'alice@contoso.example', action: 'QUARANTINE', state: 'DELIVERED', attempts: 2, lastError: null, deliveredAt: new Date() },
        { messageId: ids.message!, recipient: 'bob@contoso.example', action: 'QUARANTINE', state: 'QUARANTINED' },
      ],
    });
    await db.prisma.recipientEvent.createMany({
      data: [
        { messageId: ids.message!, recipient: 'alice@contoso.example', type: 'DEFERRED', reply: '451 4.3.0 mailbox busy', detail: { attempted: true, attempt: 1 } },
        { messageId: ids.message!, recipient: 'alice@contoso.example', type: 'DELIVERED', reply: '250 2.0.0 OK', detail: { attempted: true, attempt: 2 } },
      ],
    });
    const reply = await call('GET', '/v1/accounts/{accountId}/messages/{messageId}/recipients', { ...A(), messageId: ids.message! }, keys.readOnly);
    expectStatus(reply, 200);
    expect(reply.body).toMatchObject({ messageId: ids.message, deliveryState: 'QUARANTINED' });
    const [alice, bob] = reply.body.recipients as Json[];
    expect(alice).toMatchObject({ recipient: 'alice@contoso.example', deliveryState: 'DELIVERED', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', attempts: 2 });
    expect((alice!.events as Json[]).map((event) => [event.type, event.reply])).toEqual([
      ['ACCEPTED', null],
      ['RELEASED', null],
      ['DEFERRED', '451 4.3.0 mailbox busy'],
      ['DELIVERED', '250 2.0.0 OK'],
    ]);
    expect((alice!.events as Json[])[1]).toMatchObject({ detail: { quarantineItemId: ids.heldAlice, actor: expect.stringMatching(/^api-key:/) } });
    expect(bob).toMatchObject({ recipient: 'bob@contoso.example', deliveryState: 'QUARANTINED' });
    expect((bob!.events as Json[]).map((event) => event.type)).toEqual(['ACCEPTED', 'DELETED']);
    expectStatus(await call('GET', '/v1/accounts/{accountId}/messages/{messageId}/recipients', { ...A(), messageId: '00000000-0000-4000-8000-000000000000' }, keys.readOnly), 404);
  });

  it('should answer dashboard statistics from the hourly aggregates the verdict write keeps (issue 13)', async () => {
    const messages = new MessageRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
    const stats = (query: string) => call('GET', '/v1/accounts/{accountId}/statistics', A(), keys.readOnly, undefined, query);
    const before = await stats('');
    expectStatus(before, 200);
    const store = async (direction: 'INBOUND' | 'OUTBOUND', envelopeFrom: string, envelopeTo: string[]) =>
      (await messages.storeIncoming({ accountId: ids.contoso!, source: 'GATEWAY', direction, envelopeFrom, envelopeTo, raw: Buffer.from('Subject: s\r\n\r\nbody\r\n') })).message.id;
    const verdict = (recipient: string, decidedAction: 'DELIVER' | 'QUARANTINE' | 'REJECT', failedCheck: string | null, reasons: object[] = []) => ({
      recipient, checks: [], failedCheck, decidedAction, appliedAction: decidedAction, enforced: true, reasons,
    });
    const phish = await store('INBOUND', 'evil@phish.example', ['alice@contoso.example', 'bob@contoso.example']);
    await messages.saveVerdicts({ id: phish, accountId: ids.contoso! }, [verdict('alice@contoso.example', 'QUARANTINE', 'dmarc'), verdict('bob@contoso.example', 'QUARANTINE', 'dmarc')]);
    const leak = await store('OUTBOUND', 'alice@contoso.example', ['someone@elsewhere.example']);
    await messages.saveVerdicts({ id: leak, accountId: ids.contoso! }, [verdict('someone@elsewhere.example', 'REJECT', null, [{ kind: 'data-control', source: 'cards', action: 'REJECT', detail: 'card number' }])]);
    const clean = await store('INBOUND', 'friend@partner.example', ['alice@contoso.example']);
    await messages.saveVerdicts({ id: clean, accountId: ids.contoso! }, [verdict('alice@contoso.example', 'DELIVER', null)]);

    const after = await stats('?top=5');
    expectStatus(after, 200);
    const count = (list: unknown, key: string) => ((list as Json[]).find((entry) => entry.key === key)?.count as number | undefined) ?? 0;
    expect(after.body.total).toBe((before.body.total as number) + 4);
    expect(count(after.body.byDirection, 'OUTBOUND') - count(before.body.byDirection, 'OUTBOUND')).toBe(1);
    expect(count(after.body.byDecidedAction, 'QUARANTINE') - count(before.body.byDecidedAction, 'QUARANTINE')).toBe(2);
    expect(count(after.body.byAppliedAction, 'REJECT') - count(before.body.byAppliedAction, 'REJECT')).toBe(1);
    expect(count(after.body.byFailedCheck, 'dmarc') - count(before.body.byFailedCheck, 'dmarc')).toBe(2);
    expect(after.body.byDataControlRule).toEqual([{ key: 'cards', count: 1 }]);
    expect(after.body.topSenders).toEqual(expect.arrayContaining([{ key: 'evil@phish.example', count: 1 }, { key: 'alice@contoso.example', count: 1 }]));
    expect(after.body.topSenders).not.toEqual(expect.arrayContaining([expect.objectContaining({ key: 'friend@partner.example' })]));
    expect(after.body.topRecipients).toEqual(expect.arrayContaining([{ key: 'alice@contoso.example', count: 1 }, { key: 'someone@elsewhere.example', count: 1 }]));
    expect(Date.parse(after.body.to as string) - Date.parse(after.body.from as string)).toBe(24 * 3_600_000);

    const past = await stats(`?from=2020-01-01T00:30:00Z&to=2020-01-02T00:00:00Z`);
    expect(past.body).toMatchObject({ from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T00:00:00.000Z', total: 0, byDirection: [] });
    expect((await stats('?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'from' }] });
    expect((await stats('?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z')).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await stats('?top=0')).body).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'top' })] });
    expect((await call('GET', '/v1/accounts/{accountId}/statistics', { accountId: ids.northwind! }, partnerB.key)).body).toMatchObject({ total: 0 });
  });

  it('should accept IP-literal downstream hosts, and refuse loopback, link-local and other never-downstream addresses (issue 13)', async () => {
    const route = { ...A(), domainId: ids.domain! };
    const put = (host: string) => call('PUT', '/v1/accounts/{accountId}/domains/{domainId}/downstream', route, keys.tenant, { host, port: 2525, requireTls: true, verifyCert: false });
    expect((await put('[192.0.2.25]')).body).toMatchObject({ downstream: { host: '192.0.2.25', port: 2525 } });
    expect((await put('[IPv6:2001:DB8::25]')).body).toMatchObject({ downstream: { host: '2001:db8::25' } });
    expect((await put('10.20.30.40')).body).toMatchObject({ downstream: { host: '10.20.30.40' } });
    for (const host of ['127.0.0.1', '[::1]', '169.254.169.254', '::ffff:127.0.0.1', 'not a host']) {
      const refused = await put(host);
      expect([host, refused.body]).toEqual([host, expect.objectContaining({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'host' })] })]);
    }
    // Back to the name the other tests expect.
    expect((await put('contoso-example.mail.protection.outlook.com')).body).toMatchObject({ downstream: { host: 'contoso-example.mail.protection.outlook.com' } });
  });

  it("should list, read and download a mailbox's emergency inbox, audited, within EMERGENCY_INBOX_DAYS (issue 13)", async () => {
    const mine = await factories.newMessage({ id: ids.contoso! }, { source: 'GATEWAY', envelopeTo: ['dora@contoso.example'], subject: 'Board pack' });
    const old = await factories.newMessage({ id: ids.contoso! }, { source: 'GATEWAY', envelopeTo: ['dora@contoso.example'], receivedAt: new Date(Date.now() - 20 * 86_400_000) });
    const journal = await factories.newMessage({ id: ids.contoso! }, { source: 'JOURNAL', envelopeTo: ['dora@contoso.example'] });
    const inbox = (query: string) => call('GET', '/v1/accounts/{accountId}/emergency-inbox', A(), keys.readOnly, undefined, query);
    const listed = await inbox('?mailbox=Dora@Contoso.example');
    expectStatus(listed, 200);
    expect((listed.body.items as Json[]).map((item) => item.id)).toEqual([mine.id]);
    expect((listed.body.items as Json[])[0]).toMatchObject({ subject: 'Board pack', size: mine.size });
    expect((await inbox('?mailbox=dora@contoso.example&days=30')).body).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'days' })] });
    expect((await inbox('?days=3')).body).toMatchObject({ status: 400, errors: expect.arrayContaining([expect.objectContaining({ field: 'mailbox' })]) });

    const params = { ...A(), messageId: mine.id };
    const read = await call('GET', '/v1/accounts/{accountId}/emergency-inbox/{messageId}', params, keys.readOnly, undefined, '?mailbox=dora@contoso.example');
    expectStatus(read, 200);
    expect(read.body).toMatchObject({ id: mine.id, decodedSubject: 'Board pack', text: [expect.stringContaining('Hello from the Mailwarden test factories.')], attachments: [] });
    const raw = await call('GET', '/v1/accounts/{accountId}/emergency-inbox/{messageId}/raw', params, keys.readOnly, undefined, '?mailbox=dora@contoso.example');
    expectStatus(raw, 200);
    expect(raw.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(raw.text).toMatch(/Subject: Board pack/);
    // Not this mailbox's, too old, a journal copy: not in the emergency inbox.
    for (const [messageId, mailbox] of [[mine.id, 'erin@contoso.example'], [old.id, 'dora@contoso.example'], [journal.id, 'dora@contoso.example']] as const) {
      expectStatus(await call('GET', '/v1/accounts/{accountId}/emergency-inbox/{messageId}/raw', { ...A(), messageId }, keys.readOnly, undefined, `?mailbox=${mailbox}`), 404);
    }
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: ids.contoso, objectId: mine.id }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['emergency_inbox.read', 'emergency_inbox.downloaded']);
  });

  it("should run the quick test through the scanner's SMTP front and report what happened, audited (issue 13)", async () => {
    const quickTest = (accountId: string, domainId: string, body: Json, key = keys.tenant!) => call('POST', '/v1/accounts/{accountId}/domains/{domainId}/quick-test', { accountId, domainId }, key, body);
    const refused = await quickTest(ids.contoso!, ids.domain!, {});
    expectStatus(refused, 200);
    expect(refused.body).toMatchObject({ domainId: ids.domain, domain: 'contoso.example', recipient: 'postmaster@contoso.example', accepted: false, arrived: false, deliveryState: null, messageId: null, error: expect.stringMatching(/ECONNREFUSED|connect/i) });
    expect((await quickTest(ids.contoso!, ids.domain!, { recipient: 'someone@elsewhere.example' })).body).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'recipient', code: 'NOT_IN_DOMAIN' })] });
    expect((await quickTest(ids.fabrikam!, ids.fabrikamDomain!, {}, partnerA.key)).body).toMatchObject({ status: 409, code: 'QUICK_TEST_NOT_APPLICABLE' });
    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: ids.domain, action: 'domain.quick_test' } });
    expect(audit.map((event) => (event.after as Json).accepted)).toEqual([false]);
  });

  it('should describe every policy field and rule kind in OpenAPI, and name the real path of a refused value (issue 13)', async () => {
    type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; items?: Schema; oneOf?: Schema[]; discriminator?: { propertyName: string; mapping: Record<string, string> } };
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as OpenApiDocument;
    const schemas = document.components!.schemas as Record<string, Schema>;
    // A described reference is written { description, allOf: [{ $ref }] } (OpenAPI 3.0 allows nothing beside $ref).
    const resolve = (schema: Schema | undefined): Schema | undefined =>
      schema?.$ref ? schemas[schema.$ref.split('/').pop()!] : schema?.allOf?.length === 1 ? resolve(schema.allOf[0]) : schema;
    const describes = (root: string, path: string) => path.split('.').reduce<Schema | undefined>((node, key) => resolve(node)?.properties?.[key], schemas[root]) !== undefined;
    // Every option libs/policy resolves and locks is in the schema.
    expect(EMAIL_SECURITY_OPTIONS.filter((option) => !describes('EmailSecuritySettingsDto', option.path))).toEqual([]);
    expect(DATA_CONTROL_OPTIONS.filter((option) => !describes('DataControlSettingsDto', option.path))).toEqual([]);
    const rules = schemas.DataControlSettingsDto!.properties!.rules!.items!;
    expect(rules.discriminator!.propertyName).toBe('kind');
    expect(Object.keys(rules.discriminator!.mapping).sort()).toEqual([...CONTENT_RULE_KINDS].sort());
    expect(resolve(schemas.PutPolicyDto!.properties!.settings)!.oneOf!.map((entry) => entry.$ref)).toEqual(['#/components/schemas/EmailSecuritySettingsDto', '#/components/schemas/DataControlSettingsDto', '#/components/schemas/RetentionSettingsDto']);

    // Every documented property of every rule kind is accepted by libs/policy's validator: no field exists only on paper.
    const sample: Record<string, unknown> = { name: 'Probe', enabled: true, action: 'QUARANTINE', directions: ['OUTBOUND'], keywords: ['falcon'], targets: ['body'], pattern: 'falcon\\d+', caseInsensitive: true, fileTypes: ['exe'], match: 'either' };
    const built = Object.entries(rules.discriminator!.mapping).map(([kind, ref], index) =>
      Object.fromEntries(Object.keys(resolve({ $ref: ref })!.properties!).map((property) => [property, property === 'kind' ? kind : property === 'id' ? `probe-${index}` : sample[property]])),
    );
    expect(built.every((rule) => Object.values(rule).every((value) => value !== undefined))).toBe(true);
    const path = { ...A(), kind: 'data-control', scope: 'group', scopeId: ids.group! };
    expectStatus(await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', path, keys.tenant, { settings: { enabled: true, rules: built }, locks: [] }), 200);

    // A refused value is named by its path, never by a word of the message.
    const regexAt = built.findIndex((rule) => rule.kind === 'regex');
    const broken = built.map((rule, index) => (index === regexAt ? { ...rule, pattern: '(' } : rule));
    const refused = await call('PUT', '/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', path, keys.tenant, { settings: { enabled: true, rules: broken }, locks: [] });
    expect(refused.body).toMatchObject({ status: 400, code: 'POLICY_INVALID', errors: [expect.objectContaining({ field: `settings.rules[${regexAt}].pattern` })] });
    const badBody = await call('POST', '/v1/accounts/{accountId}/quarantine/release', A(), keys.tenant, { ids: ['not-a-uuid'], extra: 1 });
    expect((badBody.body.errors as Json[]).map((error) => [error.field, error.code]).sort()).toEqual([['extra', 'UNKNOWN_FIELD'], ['ids', 'INVALID_VALUE']]);
    const badPath = await call('GET', '/v1/accounts/{accountId}/messages/{messageId}', { ...A(), messageId: 'nope' }, keys.readOnly);
    expect(badPath.body).toMatchObject({ status: 400, errors: [{ field: 'messageId', code: 'INVALID_VALUE' }] });
  });

  it('should configure, read (no secrets), test, list alerts of and remove the Mimecast connection', async () => {
    const configured = await call('PUT', '/v1/accounts/{accountId}/integrations/mimecast', A(), keys.tenant, {
      apiVersion: 'V2',
      baseUrl: fakeMimecastUrl,
      credentials: { clientId: 'client-1', clientSecret: 's3cr3t-value' },
    });
    expectStatus(configured, 200);
    expect(configured.body).toMatchObject({ apiVersion: 'V2', baseUrl: fakeMimecastUrl, enabled: true, pollIntervalSeconds: 300 });
    const polls = new Queue(QueueName.MimecastPoll, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    expect((await polls.getJobSchedulers()).map((scheduler) => scheduler.key)).toEqual([mimecastPollSchedulerId(ids.contoso!)]);
    const missing = await call('PUT', '/v1/accounts/{accountId}/integrations/mimecast', A(), keys.tenant, { apiVersion: 'V1', baseUrl: fakeMimecastUrl, credentials: { appId: 'x' } });
    expect(missing.body).toMatchObject({ status: 400, code: 'MIMECAST_INVALID_SETTINGS' });
    const read = await call('GET', '/v1/accounts/{accountId}/integrations/mimecast', A(), keys.readOnly);
    expectStatus(read, 200);
    expect(read.text).not.toMatch(/s3cr3t-value|client-1|credentials/);
    const tested = await call('POST', '/v1/accounts/{accountId}/integrations/mimecast/test', A(), keys.tenant);
    expect(tested.body).toMatchObject({ ok: false, code: 'unauthorized' });

    const base = { accountId: ids.contoso!, source: 'MIMECAST' as const, sender: 'evil@phish.example', recipient: 'alice@contoso.example', raw: {} };
    await db.prisma.thirdPartyAlert.createMany({
      data: [
        { ...base, logType: 'impersonation', alertType: 'Impersonation Attempt', mitreId: 'T1656', occurredAt: new Date(Date.now() - 1000), dedupHash: 'h1' },
        { ...base, logType: 'url', alertType: 'Malicious URL', mitreId: 'T1566.002', occurredAt: new Date(Date.now() - 2000), dedupHash: 'h2' },
      ],
    });
    const alerts = await call('GET', '/v1/accounts/{accountId}/integrations/mimecast/alerts', A(), keys.readOnly, undefined, '?mitreId=T1566.002&recipient=alice@contoso.example');
    expect((alerts.body.items as Json[]).map((alert) => alert.alertType)).toEqual(['Malicious URL']);
    const paged = await call('GET', '/v1/accounts/{accountId}/integrations/mimecast/alerts', A(), keys.readOnly, undefined, '?limit=1');
    expect(paged.body.nextCursor).toEqual(expect.any(String));

    const removed = await call('DELETE', '/v1/accounts/{accountId}/integrations/mimecast', A(), keys.tenant);
    expect(removed.body).toMatchObject({ id: configured.body.id });
    expectStatus(await call('GET', '/v1/accounts/{accountId}/integrations/mimecast', A(), keys.tenant), 404);
    expect(await polls.getJobSchedulers()).toEqual([]);
    await polls.close();
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: ids.contoso, objectType: 'mimecast_connection' }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['mimecast.connection_configured', 'mimecast.connection_removed']);
    expect(JSON.stringify(audit.map((event) => [event.before, event.after]))).not.toMatch(/s3cr3t-value|client-1/);
  });

  it('should answer the Microsoft 365 and remediation routes of an account without a Microsoft app or connection', async () => {
    const M = '/v1/accounts/{accountId}/integrations/microsoft365';
    expect((await call('GET', M, A(), keys.readOnly)).body).toMatchObject({ appConfigured: false, connected: false, tenantId: null });
    expect((await call('POST', `${M}/consent-url`, A(), keys.tenant)).body).toMatchObject({ status: 503, code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('GET', '/v1/integrations/microsoft365/consent-callback', {}, null, undefined, '?state=forged&tenant=t&admin_consent=True')).body).toMatchObject({ status: 503, code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('POST', `${M}/check`, A(), keys.tenant)).body).toMatchObject({ status: 503, code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('POST', `${M}/directory-syncs`, A(), keys.tenant)).body).toMatchObject({ status: 503, code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('DELETE', M, A(), keys.tenant)).body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const imported = await call('POST', '/v1/accounts/{accountId}/mailboxes/import', A(), keys.tenant, { csv: 'email,displayName\ncsv@contoso.example,From CSV\n' });
    expect(imported.body).toMatchObject({ trigger: 'CSV_IMPORT', status: 'SUCCEEDED', mailboxesAdded: 1 });
    const runs = await call('GET', `${M}/directory-syncs`, A(), keys.readOnly, undefined, '?limit=5');
    expect((runs.body.items as Json[]).map((run) => run.id)).toEqual([imported.body.id]);

    const message = { ...A(), messageId: ids.message! };
    expect((await call('POST', '/v1/accounts/{accountId}/messages/{messageId}/remediations', message, keys.tenant, { action: 'MOVE_TO_JUNK' })).body).toMatchObject({ status: 503, code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('POST', '/v1/accounts/{accountId}/remediations/preview', A(), keys.tenant, { search: { sender: 'x@spam.example' } })).body).toMatchObject({ code: 'MICROSOFT365_NOT_CONFIGURED' });
    expect((await call('POST', '/v1/accounts/{accountId}/remediations/preview', A(), keys.tenant, { search: {} })).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await call('POST', '/v1/accounts/{accountId}/remediations', A(), keys.tenant, { action: 'MOVE_TO_JUNK', messageIds: [ids.message], search: { sender: 'x@spam.example' } })).body).toMatchObject({ status: 400 });
    expect((await call('POST', '/v1/accounts/{accountId}/remediations', A(), keys.tenant, { action: 'EXPLODE', messageIds: [ids.message] })).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await call('POST', '/v1/accounts/{accountId}/remediations', A(), keys.tenant, { action: 'MOVE_TO_JUNK', messageIds: [ids.message] })).body).toMatchObject({ code: 'MICROSOFT365_NOT_CONFIGURED' });
    // A remediation as the worker leaves it while running (none can be created without a connection).
    const running = await db.prisma.m365Remediation.create({
      data: {
        accountId: ids.contoso!,
        action: 'MOVE_TO_DELETED_ITEMS',
        status: 'IN_PROGRESS',
        criteria: { messageIds: [ids.message] },
        requestedBy: 'test',
        items: { create: [{ messageId: ids.message!, recipient: 'alice@contoso.example', internetMessageId: '<m@x>', status: 'IN_PROGRESS', attempts: 1 }] },
      },
    });
    ids.remediation = running.id;
    const listed = await call('GET', '/v1/accounts/{accountId}/remediations', A(), keys.readOnly);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: running.id, status: 'IN_PROGRESS', counts: { IN_PROGRESS: 1 } })]);
    const one = await call('GET', '/v1/accounts/{accountId}/remediations/{remediationId}', { ...A(), remediationId: running.id }, keys.readOnly);
    expect(one.body).toMatchObject({ id: running.id, items: [{ recipient: 'alice@contoso.example', status: 'IN_PROGRESS' }] });
    expect((await call('GET', '/v1/accounts/{accountId}/messages/{messageId}/remediations', message, keys.readOnly)).body).toEqual([expect.objectContaining({ id: running.id })]);
    expect((await call('POST', '/v1/accounts/{accountId}/remediations/{remediationId}/restore', { ...A(), remediationId: running.id }, keys.tenant)).body).toMatchObject({ status: 409, code: 'REMEDIATION_NOT_FINISHED' });
  });

  it('should add, read (no secrets), change, test and remove SIEM export destinations of an account and of a partner', async () => {
    const hecEvents: Json[] = [];
    const hec = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const ok = request.headers.authorization === 'Splunk hec-t0ken-value';
        if (ok) {
          hecEvents.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json);
        }
        response.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
        response.end(JSON.stringify(ok ? { text: 'Success', code: 0 } : { text: 'Invalid token', code: 4 }));
      });
    });
    await new Promise<void>((resolve) => hec.listen(0, '127.0.0.1', resolve));
    const hecUrl = `http://127.0.0.1:${(hec.address() as AddressInfo).port}`;
    const exports = new Queue(QueueName.Export, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    try {
      const created = await call('POST', '/v1/accounts/{accountId}/export-destinations', A(), keys.tenant, {
        name: 'Splunk',
        kind: 'HEC',
        settings: { url: hecUrl, index: 'mail' },
        credentials: { token: 'hec-t0ken-value' },
        classUids: [4009],
      });
      expectStatus(created, 201);
      expect(created.body).toMatchObject({ kind: 'HEC', scope: 'account', accountId: ids.contoso, hasCredentials: true, classUids: [4009], enabled: true, status: { eventsSent: 0, lastError: null } });
      // A new destination starts at the oldest running transaction of the server (so none in flight is skipped):
      // its lag is the account's exported events past that point, none unless another session holds an old snapshot.
      const start = await db.prisma.exportDestination.findUniqueOrThrow({ where: { id: created.body.id as string } });
      const pastStart = await db.prisma.outboxEvent.count({ where: { accountId: ids.contoso, topic: { in: [...EXPORTED_TOPICS] }, txId: { gt: start.cursorTxId } } });
      expect((created.body.status as Json).lagEvents).toBe(pastStart);
      expect(created.text).not.toContain('hec-t0ken-value');
      ids.exportDestination = created.body.id as string;
      expect((await exports.getJobSchedulers()).map((scheduler) => scheduler.key)).toEqual([exportSchedulerId(ids.exportDestination)]);

      // Bad settings answer 400 naming the field; nothing is stored.
      const refusals: Array<[unknown, string]> = [
        [{ name: 'x', kind: 'SYSLOG', settings: { host: 'siem.example' } }, 'settings.port'],
        [{ name: 'x', kind: 'NDJSON', settings: { folder: '../../etc' } }, 'settings.folder'],
        [{ name: 'x', kind: 'HEC', settings: { url: hecUrl } }, 'credentials.token'],
        [{ name: 'x', kind: 'HEC', settings: { url: 'file:///etc/passwd' }, credentials: { token: 't' } }, 'settings.url'],
        [{ name: 'x', kind: 'WEBHOOK', settings: { url: hecUrl }, credentials: { secret: 'short' } }, 'credentials.secret'],
        [{ name: 'x', kind: 'NDJSON', settings: { folder: 'ok' }, classUids: [1001] }, 'classUids'],
      ];
      for (const [body, field] of refusals) {
        const refused = await call('POST', '/v1/accounts/{accountId}/export-destinations', A(), keys.tenant, body);
        expect([field, refused.status, refused.body.code, (refused.body.errors as Json[] | undefined)?.[0]?.field]).toEqual([field, 400, 'EXPORT_INVALID_SETTINGS', field]);
      }
      const wrongKind = await call('POST', '/v1/accounts/{accountId}/export-destinations', A(), keys.tenant, { name: 'x', kind: 'KAFKA', settings: {} });
      expect(wrongKind.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });

      const listed = await call('GET', '/v1/accounts/{accountId}/export-destinations', A(), keys.readOnly);
      expect((listed.body.items as Json[]).map((item) => item.id)).toEqual([ids.exportDestination]);
      const read = await call('GET', '/v1/accounts/{accountId}/export-destinations/{destinationId}', { ...A(), destinationId: ids.exportDestination }, keys.readOnly);
      expect(read.body).toMatchObject({ settings: { url: `${hecUrl}/`, index: 'mail' } });
      expect(read.text).not.toContain('hec-t0ken-value');

      const tested = await call('POST', '/v1/accounts/{accountId}/export-destinations/{destinationId}/test', { ...A(), destinationId: ids.exportDestination }, keys.tenant);
      expect(tested.body).toMatchObject({ ok: true, error: null, eventUid: expect.any(String) });
      expect(hecEvents).toEqual([expect.objectContaining({ index: 'mail', sourcetype: '_json', event: expect.objectContaining({ class_uid: 4009, metadata: expect.objectContaining({ uid: tested.body.eventUid }), unmapped: expect.objectContaining({ test: true }) }) })]);

      const updated = await call('PATCH', '/v1/accounts/{accountId}/export-destinations/{destinationId}', { ...A(), destinationId: ids.exportDestination }, keys.tenant, {
        credentials: { token: 'rotated-token' },
        minSeverityId: 3,
        actionableOnly: true,
        enabled: false,
        classUids: [4009, 7001],
      });
      expect(updated.body).toMatchObject({ minSeverityId: 3, actionableOnly: true, enabled: false, hasCredentials: true, classUids: [4009, 7001] });
      expect(await exports.getJobSchedulers()).toEqual([]);
      // The rotated token is the one used now: the receiver refuses it, and the answer says why.
      const retested = await call('POST', '/v1/accounts/{accountId}/export-destinations/{destinationId}/test', { ...A(), destinationId: ids.exportDestination }, keys.tenant);
      expect(retested.body).toMatchObject({ ok: false, error: expect.stringContaining('403') });
      const kindChange = await call('PATCH', '/v1/accounts/{accountId}/export-destinations/{destinationId}', { ...A(), destinationId: ids.exportDestination }, keys.tenant, { kind: 'SYSLOG' });
      // The kind is fixed at creation (the cursor and credentials belong to it).
      expect(kindChange.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });

      // Partner-wide destinations: partner admins only.
      const syslogPort = await new Promise<number>((resolve) => {
        const probe = createServer();
        probe.listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      expect((await call('POST', '/v1/partner/export-destinations', {}, keys.tenant, { name: 'x', kind: 'NDJSON', settings: { folder: 'x' } })).body).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
      const partnerWide = await call('POST', '/v1/partner/export-destinations', {}, partnerA.key, { name: 'SOC syslog', kind: 'SYSLOG', settings: { host: '127.0.0.1', port: syslogPort } });
      expectStatus(partnerWide, 201);
      expect(partnerWide.body).toMatchObject({ scope: 'partner', accountId: null, hasCredentials: false });
      const partnerParams = { destinationId: partnerWide.body.id as string };
      expect((await call('GET', '/v1/partner/export-destinations', {}, partnerA.key)).body.items).toEqual([expect.objectContaining({ id: partnerWide.body.id })]);
      expect((await call('GET', '/v1/partner/export-destinations/{destinationId}', partnerParams, partnerA.key)).body).toMatchObject({ name: 'SOC syslog' });
      expect((await call('GET', '/v1/partner/export-destinations/{destinationId}', { destinationId: ids.exportDestination }, partnerA.key)).status).toBe(404);
      const down = await call('POST', '/v1/partner/export-destinations/{destinationId}/test', partnerParams, partnerA.key);
      expect(down.body).toMatchObject({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
      expect((await call('PATCH', '/v1/partner/export-destinations/{destinationId}', partnerParams, partnerA.key, { name: 'SOC' })).body).toMatchObject({ name: 'SOC' });
      expect((await call('DELETE', '/v1/partner/export-destinations/{destinationId}', partnerParams, partnerA.key)).body).toMatchObject({ id: partnerWide.body.id });
      expect((await call('GET', '/v1/partner/export-destinations', {}, partnerA.key)).body.items).toEqual([]);

      const audit = await db.prisma.auditEvent.findMany({ where: { objectType: 'export_destination' }, orderBy: { id: 'asc' } });
      expect(audit.map((event) => [event.action, event.accountId ? 'account' : 'partner'])).toEqual([
        ['export_destination.created', 'account'],
        ['export_destination.updated', 'account'],
        ['export_destination.created', 'partner'],
        ['export_destination.updated', 'partner'],
        ['export_destination.removed', 'partner'],
      ]);
      expect(JSON.stringify(audit.map((event) => [event.before, event.after]))).not.toMatch(/hec-t0ken-value|rotated-token/);
    } finally {
      await exports.close();
      await new Promise((resolve) => hec.close(resolve));
    }
  });

  it('should read every change back from the audit log, with actor, object, before and after', async () => {
    const all: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await call('GET', '/v1/accounts/{accountId}/audit-events', A(), keys.readOnly, undefined, `?limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      expectStatus(page, 200);
      all.push(...(page.body.items as Json[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    // Numbered per account (1 ... n, newest first), no global id: other tenants' changes leave no gaps (issue 14).
    expect(all.map((event) => Number(event.sequence))).toEqual(Array.from({ length: all.length }, (_, index) => all.length - index));
    expect(all.every((event) => event.id === undefined)).toBe(true);
    const actions = new Set(all.map((event) => event.action));
    for (const action of [
      'account.created',
      'api_key.created',
      'domain.added',
      'domain.verification_checked',
      'domain.downstream_set',
      'domain.removed',
      'mode_migration.planned',
      'mode_migration.step_completed',
      'mode_migration.step_checked',
      'mode_migration.completed',
      'mode_migration.cancelled',
      'policy.updated',
      'message.raw_downloaded',
      'quarantine.released',
      'quarantine.deleted',
      'mimecast.connection_configured',
      'export_destination.created',
    ]) {
      expect(actions).toContain(action);
    }
    const release = all.find((event) => event.action === 'quarantine.released' && event.objectId === ids.heldAlice)!;
    expect(release).toMatchObject({ objectType: 'quarantine_item', objectId: ids.heldAlice, actorKeyId: ids.tenantKey, before: { status: 'HELD' }, after: { status: 'RELEASED' } });
    expect(release.actor).toMatch(/^api-key:[a-z0-9]{12} \(Contoso admin\)$/);
    const filtered = await call('GET', '/v1/accounts/{accountId}/audit-events', A(), keys.readOnly, undefined, `?objectType=domain&objectId=${ids.domain}`);
    expect((filtered.body.items as Json[]).every((event) => event.objectId === ids.domain)).toBe(true);
    expect((filtered.body.items as Json[]).map((event) => event.action)).toContain('domain.added');
    // The actor filter: text the actor contains, any case (the key's name here).
    const byActor = await call('GET', '/v1/accounts/{accountId}/audit-events', A(), keys.readOnly, undefined, '?actor=CONTOSO%20ADMIN&action=quarantine.released');
    expect((byActor.body.items as Json[]).length).toBeGreaterThan(0);
    expect((byActor.body.items as Json[]).every((event) => /\(Contoso admin\)$/.test(String(event.actor)) && event.action === 'quarantine.released')).toBe(true);
    const noActor = await call('GET', '/v1/accounts/{accountId}/audit-events', A(), keys.readOnly, undefined, '?actor=nobody-acted-as-this');
    expect(noActor.body.items).toEqual([]);
    // LIKE wildcards in the filter are literal text: `%` and `_` match no actor here, not every one.
    for (const wildcard of ['%25', '_', '%25%25']) {
      const literal = await call('GET', '/v1/accounts/{accountId}/audit-events', A(), keys.readOnly, undefined, `?actor=${wildcard}`);
      expect({ wildcard, items: literal.body.items }).toEqual({ wildcard, items: [] });
    }
    const partnerEvents = await call('GET', '/v1/partner/audit-events', {}, partnerA.key, undefined, '?action=policy.updated');
    expect((partnerEvents.body.items as Json[]).map((event) => [event.action, (event.after as Json).scope])).toEqual([['policy.updated', 'PARTNER']]);
    const partnerPage = await call('GET', '/v1/partner/audit-events', {}, partnerA.key, undefined, '?limit=2');
    const partnerSequence = (partnerPage.body.items as Json[]).map((event) => Number(event.sequence));
    expect(partnerSequence[0]! - partnerSequence[1]!).toBe(1);
    expect((await call('GET', '/v1/partner/audit-events', {}, keys.readOnly)).body).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
    // Append-only: there are no write routes, and the table refuses changes.
    await expect(db.prisma.auditEvent.deleteMany({ where: { accountId: ids.contoso } })).rejects.toThrow();
  });

  it('should generate, list, read, check and retire DKIM keys of a verified domain (issue 16; more in dkim/dkim-keys.int-spec.ts)', async () => {
    const domain = { ...A(), domainId: ids.domain! };
    const created = await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys', domain, keys.tenant, { algorithm: 'ed25519-sha256', selector: 'mw1' });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ status: 'PENDING_DNS', dnsRecord: { name: 'mw1._domainkey.contoso.example', type: 'TXT', value: expect.stringMatching(/^v=DKIM1; k=ed25519; p=/) } });
    ids.dkimKey = created.body.id as string;
    const key = { ...domain, dkimKeyId: ids.dkimKey };
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys', domain, keys.readOnly)).body).toMatchObject({ items: [{ id: ids.dkimKey }], nextCursor: null });
    expect((await call('GET', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys/{dkimKeyId}', key, keys.readOnly)).body).toMatchObject({ id: ids.dkimKey, selector: 'mw1' });
    expect((await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys/{dkimKeyId}/check', key, keys.tenant)).body).toMatchObject({ matched: false, key: { status: 'PENDING_DNS' } });
    txt.set('mw1._domainkey.contoso.example', [[((created.body.dnsRecord as Json).value as string)]]);
    const checked = await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys/{dkimKeyId}/check', key, keys.tenant, undefined, '?bypassCache=true');
    expect(checked.body).toMatchObject({ matched: true, activated: true, key: { status: 'ACTIVE' } });
    expect((await call('POST', '/v1/accounts/{accountId}/domains/{domainId}/dkim-keys/{dkimKeyId}/retire', key, keys.tenant)).body).toMatchObject({ status: 'RETIRED' });
    expect(JSON.stringify(await db.prisma.auditEvent.findMany({ where: { objectType: 'dkim_key' }, select: { action: true, after: true } }))).not.toMatch(/PRIVATE KEY|encryptedPrivateKey/);
  });

  it('should answer 404 to another tenant for every route of the OpenAPI document, and 403 to a read-only key for every change', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as OpenApiDocument;
    const params: Record<string, string> = {
      accountId: ids.contoso!,
      domainId: ids.domain!,
      keyId: ids.readOnlyKey!,
      migrationId: ids.migration!,
      messageId: ids.message!,
      itemId: ids.heldAlice!,
      kind: 'email-security',
      scope: 'domain',
      scopeId: ids.domain!,
      mailboxId: ids.user!,
      groupId: ids.group!,
      partnerId: partnerA.id,
      remediationId: ids.remediation!,
      destinationId: ids.exportDestination!,
      dkimKeyId: ids.dkimKey!,
      // Sign-in for people (issue 18): a person of tenant A, and the OpenID Connect provider's name.
      userId: (await db.prisma.adminUser.create({ data: { email: 'probe-person@contoso.example', displayName: 'Probe', role: 'TENANT_ADMIN', accountId: ids.contoso! } })).id,
      provider: 'microsoft',
    };
    const bodies: Record<string, unknown> = {
      addMailbox: { email: 'probe@contoso.example' },
      addGroup: { name: 'Probe' },
      setGroupMembers: { members: [] },
      createAccount: { name: 'Probe' },
      createApiKey: { name: 'probe', role: 'READ_ONLY' },
      addDomain: { name: 'probe.example' },
      setDomainDownstream: { host: 'smtp.probe.example', port: 25, requireTls: true, verifyCert: true },
      planMigration: { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: MX_HOST },
      setMailflowConnector: { sourceIps: ['198.51.100.0/24'] },
      advanceMigration: {},
      quickTestDomain: {},
      retryMigration: {},
      putPolicy: { settings: { subjectTag: '[PROBE]' }, locks: [] },
      putPartnerPolicy: { settings: { subjectTag: '[PROBE]' }, locks: [] },
      bulkReleaseQuarantine: { ids: [ids.heldAlice] },
      bulkDeleteQuarantine: { ids: [ids.heldAlice] },
      configureMimecast: { apiVersion: 'V2', baseUrl: fakeMimecastUrl, credentials: { clientId: 'a', clientSecret: 'b' } },
      updateJournalSettings: { allowedSourceIps: ['192.0.2.0/24'], requireTls: true },
      createPartnerApiKey: { name: 'probe' },
      importMailboxes: { csv: 'email\nprobe@contoso.example' },
      remediateMessage: { action: 'HARD_DELETE' },
      previewRemediation: { search: { sender: 'x@spam.example' } },
      createRemediation: { action: 'HARD_DELETE', messageIds: [ids.message] },
      createExportDestination: { name: 'probe', kind: 'NDJSON', settings: { folder: 'probe' } },
      updateExportDestination: { name: 'probe' },
      createPartnerExportDestination: { name: 'probe', kind: 'NDJSON', settings: { folder: 'probe' } },
      createUser: { email: 'probe-new@contoso.example', displayName: 'Probe', role: 'READ_ONLY', accountId: ids.contoso, password: 'a long probe password' },
      updateUser: { displayName: 'probe' },
      enableTotp: { code: '123456' },
      disableTotp: { code: '123456' },
      updateMe: { locale: 'de' },
      changePassword: { currentPassword: 'x', newPassword: 'a long probe password' },
      updatePartnerExportDestination: { name: 'probe' },
      createDkimKey: { algorithm: 'ed25519-sha256' },
      setMailflowExchangeEndpoint: { exchangeSmtpHost: null },
    };
    const queries: Record<string, string> = {
      getEffectivePolicy: '?recipient=alice@contoso.example',
      listEmergencyInbox: '?mailbox=alice@contoso.example',
      readEmergencyInboxMessage: '?mailbox=alice@contoso.example',
      downloadEmergencyInboxMessage: '?mailbox=alice@contoso.example',
    };
    // Data of tenant A that must never appear in an answer to another tenant.
    const secrets = ['Contoso', 'contoso.example', 'alice@contoso.example', 'Urgent wire transfer', 'spam.example', ids.domain!, ids.message!, ids.heldAlice!];
    const before = await db.prisma.auditEvent.count({ where: { accountId: ids.contoso } });
    const partnerBefore = await db.prisma.auditEvent.count({ where: { partnerId: partnerA.id } });

    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [lower, operation] of Object.entries(operations)) {
        const method = lower.toUpperCase();
        const body = MUTATING.has(method) ? bodies[operation.operationId!] : undefined;
        const query = queries[operation.operationId!] ?? '';
        const tenantScoped = path.includes('{accountId}');
        const partnerScoped = path.includes('{partnerId}');
        for (const key of [partnerB.key, keys.otherTenant!]) {
          const reply = await call(method, path, params, key, body, query);
          if (tenantScoped) {
            if (reply.status !== 404) {
              throw new Error(`${method} ${path} answered ${reply.status} to another tenant: ${reply.text}`);
            }
            expect(reply.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
          } else if (partnerScoped) {
            // Partner A's id: another partner's admin key gets 404, a tenant key 403 ROLE_NOT_ALLOWED.
            expect(`${method} ${path} ${reply.status}`).toBe(`${method} ${path} ${key === partnerB.key ? 404 : 403}`);
          } else if (operation.security?.length) {
            // Collection and partner routes act on the caller's own tenant only.
            expect([200, 201, 403, 404]).toContain(reply.status);
          } else {
            // Public routes (the consent redirect, sign-in) take no key: the signed state or the password decides, so a
            // key gains nothing (OpenID Connect is not configured here: 404; its provider list is empty: 200).
            expect([200, 400, 404, 503]).toContain(reply.status);
          }
          for (const secret of secrets) {
            expect(`${method} ${path}: ${reply.text}`).not.toContain(secret);
          }
        }
        if (MUTATING.has(method) && operation.security?.length) {
          const reply = await call(method, path, params, keys.readOnly!, body, query);
          expect(`${method} ${path} ${reply.status} ${String(reply.body.code)}`).toBe(`${method} ${path} 403 READ_ONLY_KEY`);
        }
        checked++;
      }
    }
    expect(checked).toBe(Object.values(document.paths).reduce((sum, operations) => sum + Object.keys(operations).length, 0));
    // Nothing of tenant A changed: no audit entry was written by any of those calls.
    expect(await db.prisma.auditEvent.count({ where: { accountId: ids.contoso } })).toBe(before);
    expect(await db.prisma.auditEvent.count({ where: { partnerId: partnerA.id } })).toBe(partnerBefore);
  });

  it('should revoke a key so that it stops working at once', async () => {
    const revoked = await call('DELETE', '/v1/accounts/{accountId}/api-keys/{keyId}', { ...A(), keyId: ids.readOnlyKey! }, keys.tenant);
    expect(revoked.body).toMatchObject({ id: ids.readOnlyKey, revokedAt: expect.any(String), lastUsedAt: expect.any(String) });
    expectStatus(await call('GET', '/v1/accounts/{accountId}', A(), keys.readOnly), 401);
  });

  it('should serve a structurally valid OpenAPI document whose every route this suite exercised', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as OpenApiDocument;
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.components?.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' } });
    const operationIds: string[] = [];
    const refs: string[] = [];
    const collectRefs = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(collectRefs);
      } else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') {
            refs.push(value);
          } else {
            collectRefs(value);
          }
        }
      }
    };
    collectRefs(document);
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], document);
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
    expect(refs.length).toBeGreaterThan(20);
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(operations)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        expect(operation.operationId).toEqual(expect.any(String));
        operationIds.push(operation.operationId!);
        const statuses = Object.keys(operation.responses ?? {});
        // A success answer: 2xx, or the 302 of a sign-in redirect.
        expect([`${method} ${path}`, statuses.some((status) => /^2\d\d$|^302$/.test(status))]).toEqual([`${method} ${path}`, true]);
        // Public routes (the consent redirect, sign-in) have no key to refuse; those that take input can refuse it.
        const takesInput = (operation.parameters ?? []).length > 0 || operation.requestBody !== undefined;
        expect(statuses).toEqual(expect.arrayContaining(operation.security?.length ? ['401', '404'] : takesInput ? ['400'] : []));
        const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name).sort();
        expect([`${method} ${path}`, declared]).toEqual([`${method} ${path}`, templated]);
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
    // And against the OpenAPI JSON schema itself (an independent validator from the npm registry).
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validation = await new Validator().validate(structuredClone(document) as never);
    expect(validation).toEqual({ valid: true });
    const notExercised = [...documented].filter((route) => !exercised.has(route));
    expect(notExercised).toEqual([]);
    expect(documented.size).toBeGreaterThanOrEqual(37);
  });
});
