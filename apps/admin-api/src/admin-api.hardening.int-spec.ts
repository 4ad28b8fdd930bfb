import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import { listenOnFreePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../test/admin-api.harness';
import { createAdminApi } from './admin-api.app';
import { listenOpsEndpoints } from './common/ops-endpoints';

jest.setTimeout(120_000);

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }> }>>;
}

/** The probes of issue 14 against the real app: bad input answers 400 with the field, never 500. */
describe('admin API hardening (real app over HTTP)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let redis: TestRedis;
  let baseUrl: string;
  let accountId: string;
  let partnerKey: string;
  let tenantKey: string;
  let partnerId: string;
  const txt = new Map<string, string[][]>();

  beforeAll(async () => {
    api = await startTestAdminApi({
      overrides: {
        resolveDns: async (name, rrtype) => {
          const answer = rrtype === 'TXT' ? txt.get(name) : undefined;
          if (!answer) {
            throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
          }
          return answer;
        },
      },
    });
    ({ db, redis, baseUrl } = api);
    const partner = await db.prisma.partner.create({ data: { name: 'Hardening partner' } });
    const factories = new TestFactories(db.prisma);
    partnerId = partner.id;
    const account = await factories.newAccount({ partnerId: partner.id });
    accountId = account.id;
    const keys = new TestFactories(db.prisma);
    partnerKey = (await keys.newApiKey({ name: 'partner', role: 'PARTNER_ADMIN', partnerId: partner.id })).plaintext;
    tenantKey = (await keys.newApiKey({ name: 'tenant', role: 'TENANT_ADMIN', accountId })).plaintext;
    for (const subject of ['Quarterly report', 'Invoice 100% paid', 'snake_case release', 'Lunch on Friday']) {
      await factories.newMessage(account, { subject });
    }
  });

  afterAll(async () => {
    await api?.close();
  });

  const call = (method: string, path: string, init: { key?: string | null; body?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(init.key === null ? {} : { authorization: `Bearer ${init.key ?? tenantKey}` }),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body,
    });

  it('should answer 400 naming the field for a NUL in a search filter, a query or a body (not PostgreSQL 22021 as a 500)', async () => {
    const filter = await call('GET', `/v1/accounts/${accountId}/messages?sender=${encodeURIComponent('a\u0000@b.example')}`);
    expect(filter.status).toBe(400);
    expect(await filter.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'sender', code: 'NUL_CHARACTER' }] });
    const audit = await call('GET', `/v1/accounts/${accountId}/audit-events?objectType=${encodeURIComponent('x\u0000')}`);
    expect(audit.status).toBe(400);
    const body = await call('POST', `/v1/accounts/${accountId}/mailboxes`, { body: JSON.stringify({ email: 'a\u0000b@c.example' }) });
    expect(body.status).toBe(400);
    expect(await body.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'email', code: 'NUL_CHARACTER' }] });
  });

  it('should answer 400 INVALID_CURSOR for a forged cursor with a date out of range (was PostgreSQL 22009 as a 500)', async () => {
    const forged = Buffer.from(JSON.stringify({ receivedAt: '+275760-09-13T00:00:00.000Z', id: '7d0f4d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' })).toString('base64url');
    const response = await call('GET', `/v1/accounts/${accountId}/messages?cursor=${forged}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'INVALID_CURSOR' });
  });

  it('should answer 400 for JSON nested 5,000 levels deep (was a stack overflow in validation) and accept ordinary nesting', async () => {
    const deep = `{"email":"deep@c.example","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const response = await call('POST', `/v1/accounts/${accountId}/mailboxes`, { body: deep });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body', code: 'TOO_DEEPLY_NESTED' }] });
    const inString = await call('POST', `/v1/accounts/${accountId}/mailboxes`, { body: JSON.stringify({ email: 'ok@c.example', displayName: '['.repeat(100) }) });
    expect(inString.status).toBe(201);
    const malformed = await call('POST', `/v1/accounts/${accountId}/mailboxes`, { body: '{"email":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('should take % and _ in a subject search literally, so %%% matches nothing rather than everything', async () => {
    const subjects = async (text: string) => {
      const response = await call('GET', `/v1/accounts/${accountId}/messages?subject=${encodeURIComponent(text)}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: Array<{ subject: string }> }).items.map((item) => item.subject).sort();
    };
    expect(await subjects('%%%')).toEqual([]);
    expect(await subjects('___')).toEqual([]);
    expect(await subjects('100%')).toEqual(['Invoice 100% paid']);
    expect(await subjects('e_c')).toEqual(['snake_case release']);
    expect(await subjects('REPORT')).toEqual(['Quarterly report']);
  });

  it('should refuse a cursor it did not return on every list route of the OpenAPI document, and follow its own', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as OpenApiDocument;
    const lists = Object.entries(document.paths)
      .filter(([, operations]) => operations.get?.parameters?.some((parameter) => parameter.in === 'query' && parameter.name === 'cursor'))
      .map(([path]) => path);
    expect(lists.length).toBeGreaterThanOrEqual(10);
    // A list that needs other query parameters (the emergency inbox's mailbox) gets a valid one, so the cursor is
    // what is judged; a new required parameter without a sample here fails the test rather than passing unjudged.
    const samples: Record<string, string> = { mailbox: 'probe@contoso.example' };
    const required = (template: string) =>
      (document.paths[template]!.get!.parameters ?? [])
        .filter((parameter) => parameter.in === 'query' && parameter.required && parameter.name !== 'cursor')
        .map((parameter) => {
          if (!(parameter.name in samples)) {
            throw new Error(`${template}: no sample for the required query parameter ${parameter.name}`);
          }
          return `&${parameter.name}=${encodeURIComponent(samples[parameter.name]!)}`;
        })
        .join('');
    const unsigned = Buffer.from(JSON.stringify({ id: '1', createdAt: '2026-01-01T00:00:00.000Z', name: 'a', receivedAt: '2026-01-01T00:00:00.000Z', occurredAt: '2026-01-01T00:00:00.000Z' })).toString('base64url');
    // Lists under a domain (its DKIM keys, issue 16) get a real domain of the account.
    const domainId = (await new TestFactories(db.prisma).newDomain({ id: accountId }, { name: 'lists.hardening.example' })).id;
    for (const template of lists) {
      const path = template.replace('{accountId}', accountId).replace('{domainId}', domainId);
      const key = path.startsWith('/v1/partner') || path === '/v1/accounts' ? partnerKey : tenantKey;
      const response = await call('GET', `${path}?cursor=${unsigned}.${'A'.repeat(22)}${required(template)}`, { key });
      const body = (await response.json()) as { code?: string };
      expect(`${template}: ${response.status} ${body.code}`).toBe(`${template}: 400 INVALID_CURSOR`);
    }
    const first = (await (await call('GET', `/v1/accounts/${accountId}/messages?limit=2`)).json()) as { items: unknown[]; nextCursor: string };
    expect(first.items).toHaveLength(2);
    const second = await call('GET', `/v1/accounts/${accountId}/messages?limit=2&cursor=${first.nextCursor}`);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { items: unknown[] }).items).toHaveLength(2);
  });

  it('should send the security headers of helmet, no X-Powered-By, and Cache-Control: no-store on plaintext keys and raw messages', async () => {
    const created = await call('POST', `/v1/accounts/${accountId}/api-keys`, { body: JSON.stringify({ name: 'headers', role: 'READ_ONLY' }) });
    expect(created.status).toBe(201);
    expect(JSON.stringify(await created.json())).toMatch(/mw_[a-z0-9]{12}_/);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const list = (await (await call('GET', `/v1/accounts/${accountId}/messages?limit=1`)).json()) as { items: Array<{ id: string }> };
    const raw = await call('GET', `/v1/accounts/${accountId}/messages/${list.items[0]!.id}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    for (const response of [created, raw, await call('GET', '/health', { key: null }), await call('GET', '/v1/accounts', { key: null })]) {
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
    const docs = await call('GET', '/docs', { key: null });
    expect(docs.status).toBe(200);
    expect(docs.headers.get('x-powered-by')).toBeNull();
  });

  it('should let another tenant add a domain unverified without blocking or learning anything, the first to verify holding it', async () => {
    const owner = await db.prisma.account.create({ data: { name: 'Owner', partnerId, journalToken: 'j-owner-hardening', monitorOnly: true } });
    const keys = new TestFactories(db.prisma);
    const ownerKey = (await keys.newApiKey({ name: 'owner', role: 'TENANT_ADMIN', accountId: owner.id })).plaintext;
    const add = async (key: string, id: string) => {
      const response = await call('POST', `/v1/accounts/${id}/domains`, { key, body: JSON.stringify({ name: 'Owned.Example' }) });
      return { status: response.status, body: (await response.json()) as { id: string; verificationRecord: { value: string } } };
    };
    const verify = async (key: string, id: string, domainId: string) => {
      const response = await call('POST', `/v1/accounts/${id}/domains/${domainId}/verify`, { key });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as { verified: boolean; domain: { verificationStatus: string } } };
    };
    // The squatter adds the real owner's domain first: before, the owner got 409 DOMAIN_OWNED_BY_ANOTHER_ACCOUNT.
    const squatted = await add(tenantKey, accountId);
    expect(squatted.status).toBe(201);
    const owned = await add(ownerKey, owner.id);
    expect(owned.status).toBe(201);
    expect((await add(ownerKey, owner.id)).body).toMatchObject({ code: 'DOMAIN_ALREADY_CONNECTED', detail: expect.not.stringContaining(accountId) });

    // The owner publishes its token and verifies first; the squatter, even with its own token published, fails like
    // any failed verification: the answer names no other account.
    txt.set('owned.example', [[owned.body.verificationRecord.value]]);
    expect((await verify(ownerKey, owner.id, owned.body.id)).body).toMatchObject({ verified: true, domain: { verificationStatus: 'VERIFIED' } });
    txt.set('owned.example', [[owned.body.verificationRecord.value], [squatted.body.verificationRecord.value]]);
    const late = await verify(tenantKey, accountId, squatted.body.id);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ verified: false, domain: { verificationStatus: 'FAILED' } });
    expect(late.text).not.toContain(owner.id);
    // Still the owner's after the squatter's try, and verifying again keeps it.
    expect((await verify(ownerKey, owner.id, owned.body.id)).body).toMatchObject({ verified: true });
  });

  it('should set the journal source ranges and require-TLS flag (tenant admin, validated, audited), refusing a bad range by its field', async () => {
    const patch = (body: unknown, key = tenantKey) => call('PATCH', `/v1/accounts/${accountId}/journal`, { key, body: JSON.stringify(body) });
    const set = await patch({ allowedSourceIps: [' 40.92.0.0/15', '2A01:111:F400::/48'], requireTls: true });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ allowedSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], requireTls: true });
    const onlyTls = await patch({ requireTls: false });
    expect(await onlyTls.json()).toMatchObject({ allowedSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], requireTls: false });
    const bad = await patch({ allowedSourceIps: ['10.0.0.0/8', '10.0.0.0/33', 'journal.example'] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [
        { field: 'allowedSourceIps[1]', code: 'INVALID_IP_RANGE' },
        { field: 'allowedSourceIps[2]', code: 'INVALID_IP_RANGE' },
      ],
    });
    expect((await patch({ requireTls: 'yes' })).status).toBe(400);
    const account = await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account).toMatchObject({ journalSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], journalRequireTls: false });
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId, action: 'account.journal_settings_set' }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.after)).toEqual([
      { journalSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], journalRequireTls: true },
      { journalSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'], journalRequireTls: false },
    ]);
  });

  it('should let a partner admin rotate its own key (new key shown once, old one revoked at once) and no other partner\'s', async () => {
    const keys = new TestFactories(db.prisma);
    const other = await db.prisma.partner.create({ data: { name: 'Other partner' } });
    const otherKey = (await keys.newApiKey({ name: 'other', role: 'PARTNER_ADMIN', partnerId: other.id })).plaintext;
    const old = await keys.newApiKey({ name: 'to rotate', role: 'PARTNER_ADMIN', partnerId });
    const rotate = (key: string, id: string, body: unknown) => call('POST', `/v1/partners/${id}/api-keys`, { key, body: JSON.stringify(body) });
    expect((await rotate(otherKey, partnerId, { name: 'hijack' })).status).toBe(404);
    expect((await rotate(tenantKey, partnerId, { name: 'tenant' })).status).toBe(403);
    expect((await rotate(otherKey, other.id, { name: 'x', revokes: old.key.id })).status).toBe(404);
    const rotated = await rotate(old.plaintext, partnerId, { name: 'rotated', revokes: old.key.id });
    expect(rotated.status).toBe(201);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const body = (await rotated.json()) as { key: string; role: string; accountId: string | null };
    expect(body).toMatchObject({ role: 'PARTNER_ADMIN', accountId: null, key: expect.stringMatching(/^mw_[a-z0-9]{12}_/) });
    expect((await call('GET', '/v1/accounts', { key: old.plaintext })).status).toBe(401);
    expect((await call('GET', '/v1/accounts', { key: body.key })).status).toBe(200);
    const audit = await db.prisma.auditEvent.findMany({ where: { partnerId, objectType: 'api_key', action: { in: ['api_key.created', 'api_key.revoked'] } }, orderBy: { id: 'desc' }, take: 2 });
    expect(audit.map((event) => event.action).sort()).toEqual(['api_key.created', 'api_key.revoked']);
  });

  describe('operator endpoints (ADMIN_API_OPS_ACCESS)', () => {
    const started: INestApplication[] = [];
    const start = async (access: string) => {
      const config = loadConfig('admin-api', { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, ADMIN_API_OPS_ACCESS: access });
      const instance = await createAdminApi(config, false);
      started.push(instance);
      return { instance, url: await listenOnFreePort(instance) };
    };

    afterAll(async () => {
      for (const instance of started) {
        await instance.close();
      }
    });

    it('should serve /docs and /metrics publicly by default', async () => {
      for (const path of ['/docs', '/docs-json', '/metrics']) {
        expect((await fetch(`${baseUrl}${path}`)).status).toBe(200);
      }
    });

    it('should ask for a valid API key when set to api-key, /health staying public', async () => {
      const { url } = await start('api-key');
      for (const path of ['/docs', '/docs-json', '/metrics']) {
        const anonymous = await fetch(`${url}${path}`);
        expect(anonymous.status).toBe(401);
        expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
        expect((await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${tenantKey.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))}` } })).status).toBe(401);
        expect((await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${tenantKey}` } })).status).toBe(200);
      }
      expect((await fetch(`${url}/health`)).status).toBe(200);
    });

    it('should serve them only on the separate listener when set to separate, and nothing else there but /health', async () => {
      const { instance, url } = await start('separate');
      const opsUrl = await listenOpsEndpoints(instance, '127.0.0.1', 0);
      for (const path of ['/docs', '/docs-json', '/metrics']) {
        expect((await fetch(`${url}${path}`)).status).toBe(404);
        expect((await fetch(`${opsUrl}${path}`)).status).toBe(200);
      }
      expect((await fetch(`${opsUrl}/health`)).status).toBe(200);
      expect((await fetch(`${opsUrl}/v1/accounts`, { headers: { authorization: `Bearer ${tenantKey}` } })).status).toBe(404);
      expect((await fetch(`${url}/v1/accounts/${accountId}`, { headers: { authorization: `Bearer ${tenantKey}` } })).status).toBe(200);
    });
  });
});
