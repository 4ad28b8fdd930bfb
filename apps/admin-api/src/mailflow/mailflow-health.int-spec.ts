import { MailflowHealthRepository, type Account, type Domain } from '@mailwarden/db';
import { MailflowQuickTestService } from '@mailwarden/microsoft365';
import { FakeExchangeOnlineSmtp, FakeMicrosoft365, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type Json, type TestAdminApi } from '../../test/admin-api.harness';

jest.setTimeout(60_000);

/**
 * Issue 16 through the admin API: the tamper check's alerts and each domain's mailflow health are visible (and only
 * to the account's keys), the quick test's Exchange Online endpoint is set (and audited) only to an Exchange MX
 * host, and the domain quick test of a mailflow domain with a Microsoft 365 connection follows Exchange Online's
 * path and names the failed hop.
 */
describe('mailflow health routes (admin API)', () => {
  const m365 = new FakeMicrosoft365();
  let exchange: FakeExchangeOnlineSmtp;
  let api: TestAdminApi;
  let db: TestDatabase;
  let account: Account;
  let domain: Domain;
  let tenantKey: string;
  let readOnlyKey: string;
  let otherKey: string;

  const call = (method: string, path: string, key: string, body?: unknown) => api.call(method, path, key, body);
  const A = () => `/v1/accounts/${account.id}`;

  beforeAll(async () => {
    await m365.start();
    api = await startTestAdminApi({ env: { ...m365.appEnv(), SMTP_HOSTNAME: 'mx.mailwarden.test' }, overrides: { quickTestTimeoutMs: 5_000 } });
    db = api.db;
    const factories = new TestFactories(db.prisma);

    const tenantId = m365.addTenant(undefined, true);
    m365.addUser(tenantId, { userPrincipalName: 'alice@contoso.example' });
    exchange = new FakeExchangeOnlineSmtp(m365);
    await exchange.start();

    account = await factories.newAccount({ monitorOnly: false, name: 'Contoso' });
    domain = await factories.newDomain(account, { name: 'contoso.example', mode: 'MAILFLOW' });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test' } });
    // The operator points the quick test at the local fake (the API itself only takes Exchange MX hosts).
    await db.prisma.m365MailflowSettings.create({ data: { accountId: account.id, exchangeSmtpHost: '127.0.0.1', exchangeSmtpPort: exchange.inboundPort } });
    const other = await factories.newAccount({ name: 'Northwind' });
    const keys = new TestFactories(db.prisma);
    tenantKey = (await keys.newApiKey({ name: 'Contoso admin', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    readOnlyKey = (await keys.newApiKey({ name: 'SIEM', role: 'READ_ONLY', accountId: account.id })).plaintext;
    otherKey = (await keys.newApiKey({ name: 'Northwind admin', role: 'TENANT_ADMIN', accountId: other.id })).plaintext;
  });

  afterAll(async () => {
    await api?.close();
    await exchange?.stop();
    await m365.stop();
  });

  it("should show a detected tampering in alerts, in the domain and in the health, to the account's keys only", async () => {
    const differences = [{ kind: 'TRANSPORT_RULE', name: 'Mailwarden - x - Route', problem: 'priority-changed', property: 'Priority', expected: 0, actual: 2, description: 'moved' }];
    const health = api.app.get(MailflowHealthRepository);
    const detected = await health.recordCheck(account.id, [{ id: domain.id, name: domain.name }], differences, new Date());
    expect(detected).toMatchObject({ kind: 'TAMPER_DETECTED' });

    const alerts = await call('GET', `${A()}/mailflow/alerts`, readOnlyKey);
    expect(alerts.status).toBe(200);
    expect(alerts.body.items).toEqual([expect.objectContaining({ id: detected!.id, kind: 'TAMPER_DETECTED', domains: ['contoso.example'], differences: [expect.objectContaining({ problem: 'priority-changed', actual: 2 })] })]);
    const shown = await call('GET', `${A()}/domains/${domain.id}`, readOnlyKey);
    expect(shown.body.mailflowHealth).toMatchObject({ status: 'DEGRADED', differences: [expect.objectContaining({ property: 'Priority' })] });
    expect((await call('GET', `${A()}/domains`, readOnlyKey)).body.items).toEqual([expect.objectContaining({ id: domain.id, mailflowHealth: expect.objectContaining({ status: 'DEGRADED' }) })]);
    expect((await call('GET', `${A()}/mailflow/health`, readOnlyKey)).body).toMatchObject({ exchangeSmtpHost: '127.0.0.1', domains: { 'contoso.example': { status: 'DEGRADED' } } });

    // Another tenant's key sees none of it.
    expect((await call('GET', `${A()}/mailflow/alerts`, otherKey)).status).toBe(404);
    expect((await call('GET', `${A()}/mailflow/health`, otherKey)).status).toBe(404);

    // Cleared: a second alert, newest first, paged.
    await health.recordCheck(account.id, [{ id: domain.id, name: domain.name }], [], new Date(Date.now() + 1));
    const first = await call('GET', `${A()}/mailflow/alerts?limit=1`, tenantKey);
    expect(first.body.items).toEqual([expect.objectContaining({ kind: 'TAMPER_CLEARED' })]);
    const second = await call('GET', `${A()}/mailflow/alerts?limit=1&cursor=${encodeURIComponent(String(first.body.nextCursor))}`, tenantKey);
    expect(second.body.items).toEqual([expect.objectContaining({ kind: 'TAMPER_DETECTED' })]);
    expect((await call('GET', `${A()}/domains/${domain.id}`, tenantKey)).body.mailflowHealth).toMatchObject({ status: 'HEALTHY', differences: [] });
  });

  it('should take only an Exchange Online MX host as the quick test endpoint, audit it, and refuse read-only keys', async () => {
    for (const host of ['127.0.0.1', 'redis.internal', 'evil.example', `${'a'.repeat(250)}.mail.protection.outlook.com`]) {
      expect([host, (await call('PUT', `${A()}/mailflow/exchange-endpoint`, tenantKey, { exchangeSmtpHost: host })).status]).toEqual([host, 400]);
    }
    expect((await call('PUT', `${A()}/mailflow/exchange-endpoint`, readOnlyKey, { exchangeSmtpHost: 'contoso-example.mail.protection.outlook.com' })).status).toBe(403);
    const set = await call('PUT', `${A()}/mailflow/exchange-endpoint`, tenantKey, { exchangeSmtpHost: 'Contoso-Example01b.mail.protection.outlook.com' });
    expect(set).toMatchObject({ status: 200, body: { exchangeSmtpHost: 'contoso-example01b.mail.protection.outlook.com', exchangeSmtpPort: 25 } });
    expect(await db.prisma.auditEvent.count({ where: { accountId: account.id, action: 'microsoft365.mailflow_settings.updated' } })).toBe(1);
    // Back to the fake for the next test (as the operator would, outside the API).
    await db.prisma.m365MailflowSettings.update({ where: { accountId: account.id }, data: { exchangeSmtpHost: '127.0.0.1', exchangeSmtpPort: exchange.inboundPort } });
  });

  it("should run a mailflow domain's quick test through Exchange Online and name the hop that failed", async () => {
    const unknown = await call('POST', `${A()}/domains/${domain.id}/quick-test`, tenantKey, { recipient: 'nobody@contoso.example' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ path: 'MICROSOFT365', accepted: false, arrived: false, failedHop: 'accepted-by-exchange', error: expect.stringMatching(/5\.1\.10/) });
    // Exchange takes it, but no transport rule routes it to Mailwarden: it lands in the mailbox unscanned.
    const unrouted = await call('POST', `${A()}/domains/${domain.id}/quick-test`, tenantKey, { recipient: 'alice@contoso.example' });
    expect(unrouted.body).toMatchObject({ path: 'MICROSOFT365', accepted: true, arrived: false, failedHop: 'scanned-by-mailwarden' });
    expect((unrouted.body.hops as Json[]).map((hop) => hop.status)).toEqual(['passed', 'failed', 'not-reached', 'not-reached']);
    expect(await db.prisma.auditEvent.count({ where: { accountId: account.id, action: 'domain.quick_test' } })).toBe(2);

    // A test whose connection went away meanwhile fails with the reason instead of staying RUNNING.
    const quickTests = api.app.get(MailflowQuickTestService);
    const pending = await quickTests.create({ accountId: account.id, domainId: domain.id, domain: domain.name, requestedBy: 'test' });
    const connection = await db.prisma.m365Connection.delete({ where: { accountId: account.id } });
    try {
      expect(await quickTests.run(pending.id)).toMatchObject({ status: 'FAILED', failedHop: 'accepted-by-exchange', finishedAt: expect.any(Date) });
      expect(((await db.prisma.mailflowQuickTest.findUniqueOrThrow({ where: { id: pending.id } })).hops as Json[])[0]).toMatchObject({ status: 'failed', detail: expect.stringMatching(/no Microsoft 365 connection/) });
    } finally {
      await db.prisma.m365Connection.create({ data: connection });
    }
  });
});
