import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import { ApiKeyRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, createTestRedis, listenOnFreePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';

/** `METHOD /openapi/path` pairs this suite called, checked against the OpenAPI document at the end. */
const exercised = new Set<string>();

describe('admin API routes', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let app: INestApplication;
  let baseUrl: string;
  let factories: TestFactories;
  let partnerKey: string;
  const txt = new Map<string, string[][]>();
  const mx = new Map<string, Array<{ exchange: string; priority: number }>>();

  const call = async (method: string, template: string, params: Record<string, string>, key: string | null, body?: unknown) => {
    exercised.add(`${method} ${template}`);
    const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => params[name] ?? `missing-${name}`);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: json as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    factories = new TestFactories(db.prisma);
    const config = loadConfig('admin-api', {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      API_RATE_LIMIT_PER_MINUTE: '100000',
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const coded = (code: string) => Object.assign(new Error(code), { code });
    app = await createAdminApi(config, false, {
      resolveDns: async (name, rrtype) => {
        const answer = rrtype === 'TXT' ? txt.get(name) : rrtype === 'MX' ? mx.get(name) : undefined;
        if (!answer) {
          throw coded('ENOTFOUND');
        }
        return answer;
      },
      journalQuietPeriodMs: 0,
      allowHttpMimecastBaseUrl: true,
    });
    baseUrl = await listenOnFreePort(app);
    const partner = await db.prisma.partner.create({ data: { name: 'Partner One' } });
    partnerKey = (await new ApiKeyRepository(db.prisma as unknown as PrismaService).create({ name: 'partner', role: 'PARTNER_ADMIN', partnerId: partner.id })).plaintext;
  });

  afterAll(async () => {
    await app?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should refuse requests without a valid key with 401 problem+json', async () => {
    const response = await call('GET', '/v1/accounts', {}, null);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', type: 'urn:mailwarden:problem:unauthenticated' });
  });

  it('should create an account and a domain', async () => {
    const account = await call('POST', '/v1/accounts', {}, partnerKey, { name: 'Contoso' });
    expect(account.status).toBe(201);
    const domain = await call('POST', '/v1/accounts/{accountId}/domains', { accountId: account.body.id as string }, partnerKey, { name: 'contoso.example' });
    expect(domain.status).toBe(201);
    void factories;
  });
});
