import { TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../../test/admin-api.harness';

jest.setTimeout(120_000);

/** Retention settings through the policies routes (issue 20): validation, the partner ceiling, isolation, audit. */
describe('retention settings (admin API over HTTP)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let baseUrl: string;
  let accountId: string;
  let otherAccountId: string;
  let partnerKey: string;
  let tenantKey: string;
  let otherPartnerKey: string;

  beforeAll(async () => {
    api = await startTestAdminApi({ env: { EMERGENCY_INBOX_DAYS: '14' } });
    ({ db, baseUrl } = api);
    const factories = new TestFactories(db.prisma);
    const partner = await db.prisma.partner.create({ data: { name: 'Retention partner' } });
    const otherPartner = await db.prisma.partner.create({ data: { name: 'Other partner' } });
    accountId = (await factories.newAccount({ partnerId: partner.id })).id;
    otherAccountId = (await factories.newAccount({ partnerId: otherPartner.id })).id;
    const keys = new TestFactories(db.prisma);
    partnerKey = (await keys.newApiKey({ name: 'partner', role: 'PARTNER_ADMIN', partnerId: partner.id })).plaintext;
    otherPartnerKey = (await keys.newApiKey({ name: 'other partner', role: 'PARTNER_ADMIN', partnerId: otherPartner.id })).plaintext;
    tenantKey = (await keys.newApiKey({ name: 'tenant', role: 'TENANT_ADMIN', accountId })).plaintext;
  });

  afterAll(async () => {
    await api?.close();
  });

  const call = async (method: string, path: string, key: string, body?: object): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const putAccount = (key: string, settings: object, scope = 'account', scopeId = accountId) =>
    call('PUT', `/v1/accounts/${accountId}/policies/retention/${scope}/${scopeId}`, key, { settings, locks: [] });

  it('should answer the Sophos-like defaults before anything is set', async () => {
    const response = await call('GET', `/v1/accounts/${accountId}/retention`, tenantKey);
    expect(response).toMatchObject({ status: 200, body: { historyDays: 30, quarantineDays: 30, auditLogDays: 365, rawMessageDays: 30, emergencyInboxDays: 14 } });
  });

  it("should store a tenant's windows, audited, and refuse bad values with problem bodies naming the field", async () => {
    expect(await putAccount(tenantKey, { historyDays: 7, quarantineDays: 21 })).toMatchObject({ status: 200, body: { kind: 'RETENTION', scope: 'ACCOUNT' } });
    expect((await call('GET', `/v1/accounts/${accountId}/retention`, tenantKey)).body).toMatchObject({ historyDays: 7, quarantineDays: 21, rawMessageDays: 21 });
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId, objectType: 'policy' } });
    expect(audit.length).toBeGreaterThan(0);

    for (const settings of [{ historyDays: 0 }, { historyDays: 1.5 }, { historyDays: '30' }, { historyDays: 1e12 }, { keepForever: true }]) {
      const response = await putAccount(tenantKey, settings);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'POLICY_INVALID' });
      expect((response.body.errors as Array<{ field: string }>)[0]!.field).toMatch(/^settings\./);
    }
    expect((await call('PUT', `/v1/accounts/${accountId}/policies/retention/account/${accountId}`, tenantKey, { settings: {}, locks: ['historyDays'] })).status).toBe(400);
    // Retention is per account: a domain-scope retention policy is refused, not silently ignored.
    const domain = await db.prisma.domain.create({ data: { accountId, name: 'retention.example', verificationToken: 't' } });
    expect(await putAccount(tenantKey, { historyDays: 7 }, 'domain', domain.id)).toMatchObject({ status: 400, body: { code: 'POLICY_INVALID' } });
  });

  it("should hold every tenant under the partner's ceiling, and keep the ceiling to the partner", async () => {
    expect((await call('PUT', '/v1/partner/policies/retention', tenantKey, { settings: { historyDays: 90 }, locks: [] })).status).toBe(403);
    expect((await call('PUT', '/v1/partner/policies/retention', partnerKey, { settings: { historyDays: 10, auditLogDays: 400 }, locks: [] })).status).toBe(200);

    const above = await putAccount(tenantKey, { historyDays: 11 });
    expect(above).toMatchObject({ status: 409, body: { code: 'RETENTION_ABOVE_CEILING', errors: [{ field: 'settings.historyDays' }] } });
    // The partner admin is bound by its own ceiling too.
    expect((await putAccount(partnerKey, { historyDays: 30 })).status).toBe(409);
    // The tenant's earlier 7 days stay; a ceiling lowered below a stored value wins in the effective windows.
    expect((await call('GET', `/v1/accounts/${accountId}/retention`, tenantKey)).body).toMatchObject({ historyDays: 7, ceiling: { historyDays: 10, auditLogDays: 400 } });
    expect((await call('PUT', '/v1/partner/policies/retention', partnerKey, { settings: { historyDays: 5 }, locks: [] })).status).toBe(200);
    expect((await call('GET', `/v1/accounts/${accountId}/retention`, tenantKey)).body).toMatchObject({ historyDays: 5 });

    // Another partner's tenant is neither readable nor writable, and its ceiling is its own partner's.
    expect((await call('GET', `/v1/accounts/${otherAccountId}/retention`, tenantKey)).status).toBe(404);
    expect((await call('PUT', `/v1/accounts/${otherAccountId}/policies/retention/account/${otherAccountId}`, partnerKey, { settings: { historyDays: 7 }, locks: [] })).status).toBe(404);
    expect(await call('PUT', `/v1/accounts/${otherAccountId}/policies/retention/account/${otherAccountId}`, otherPartnerKey, { settings: { historyDays: 60 }, locks: [] })).toMatchObject({ status: 200 });
    expect((await call('GET', `/v1/accounts/${otherAccountId}/retention`, otherPartnerKey)).body).toMatchObject({ historyDays: 60, rawMessageDays: 60 });
  });

  it('should describe the routes and the retention settings in the OpenAPI document', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(document.paths['/v1/accounts/{accountId}/retention']).toBeDefined();
    expect(document.components.schemas.RetentionSettingsDto).toBeDefined();
    expect(document.components.schemas.EffectiveRetentionDto).toBeDefined();
  });
});
