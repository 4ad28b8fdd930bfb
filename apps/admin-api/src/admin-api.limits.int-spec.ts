import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import { DUMMY_API_KEY_HASH } from '@mailwarden/db';
import { createTestDatabase, createTestRedis, listenOnFreePort, TcpProxy, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';
import { ApiKeyAuthenticator } from './common/api-key-authenticator';

jest.setTimeout(120_000);

const UNAUTHENTICATED_LIMIT = 30;

describe('admin API rate limit and unconfigured secrets', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  const apps: INestApplication[] = [];
  const urls: string[] = [];
  let accountId: string;
  let first: string;
  let second: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    // Two instances behind one Redis, as when the admin API is scaled out; no SECRETS_KEY.
    const config = loadConfig('admin-api', { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, API_RATE_LIMIT_PER_MINUTE: '4', API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: String(UNAUTHENTICATED_LIMIT), TRUST_PROXY: 'true' });
    for (let index = 0; index < 2; index++) {
      const app = await createAdminApi(config, false);
      apps.push(app);
      urls.push(await listenOnFreePort(app));
    }
    const account = await new TestFactories(db.prisma).newAccount();
    accountId = account.id;
    const keys = new TestFactories(db.prisma);
    first = (await keys.newApiKey({ name: 'first', role: 'TENANT_ADMIN', accountId })).plaintext;
    second = (await keys.newApiKey({ name: 'second', role: 'READ_ONLY', accountId })).plaintext;
  });

  afterAll(async () => {
    for (const app of apps) {
      await app.close();
    }
    await redis?.cleanup();
    await db?.drop();
  });

  const get = (url: string, key: string, path = `/v1/accounts/${accountId}`) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it('should count a key across instances and answer 429 with Retry-After once the limit is spent, other keys unaffected', async () => {
    // Stay inside one minute window so the count is deterministic.
    const secondsIntoMinute = new Date().getUTCSeconds();
    if (secondsIntoMinute > 50) {
      await new Promise((resolve) => setTimeout(resolve, (61 - secondsIntoMinute) * 1000));
    }
    const statuses: number[] = [];
    for (let index = 0; index < 4; index++) {
      const response = await get(urls[index % 2]!, first);
      statuses.push(response.status);
      expect(response.headers.get('ratelimit-remaining')).toBe(String(3 - index));
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const limited = await get(urls[0]!, first);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', type: 'urn:mailwarden:problem:rate-limited' });
    expect((await get(urls[1]!, first)).status).toBe(429);
    expect((await get(urls[1]!, second)).status).toBe(200);
  });

  const from = (url: string, address: string, key: string | null, path = `/v1/accounts/${accountId}`) =>
    fetch(`${url}${path}`, { headers: { 'x-forwarded-for': address, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

  /** Per-minute counters: start a sequence early enough in the minute that it stays in one window. */
  const inOneWindow = async () => {
    const secondsIntoMinute = new Date().getUTCSeconds();
    if (secondsIntoMinute > 45) {
      await new Promise((resolve) => setTimeout(resolve, (61 - secondsIntoMinute) * 1000));
    }
  };

  it('should throttle wrong secrets per client address and prefix, never lock the right secret out, and keep a revoked key out', async () => {
    const keys = new TestFactories(db.prisma);
    const { key, plaintext } = await keys.newApiKey({ name: 'target', role: 'READ_ONLY', accountId });
    const { hash } = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const prefix = plaintext.split('_')[1]!;
    const wrong = `mw_${prefix}_${'A'.repeat(32)}`;
    await inOneWindow();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push((await from(urls[attempt % 2]!, '203.0.113.9', wrong)).status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    const locked = await from(urls[0]!, '203.0.113.9', wrong);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The owner elsewhere is not locked out by someone who knows the prefix ...
    expect((await from(urls[0]!, '198.51.100.7', plaintext)).status).toBe(200);
    // ... nor from the throttled address itself (instance 1 has not cached the secret: it runs scrypt).
    const authenticator = apps[1]!.get(ApiKeyAuthenticator);
    const verify = jest.spyOn(authenticator, 'verifySecret');
    try {
      expect((await from(urls[1]!, '203.0.113.9', plaintext)).status).toBe(200);
      expect(verify).toHaveBeenCalledWith(expect.any(String), hash);
    } finally {
      verify.mockRestore();
    }
    await keys.revokeApiKey(key.id);
    expect((await from(urls[0]!, '198.51.100.7', plaintext)).status).toBe(401);
  });

  it('should refuse an unknown prefix, a revoked key and a wrong secret through the same scrypt check and the same answer', async () => {
    const keys = new TestFactories(db.prisma);
    const { key, plaintext } = await keys.newApiKey({ name: 'timing', role: 'READ_ONLY', accountId });
    const { hash } = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const revoked = await keys.newApiKey({ name: 'revoked', role: 'READ_ONLY', accountId });
    await keys.revokeApiKey(revoked.key.id);
    const authenticator = apps[0]!.get(ApiKeyAuthenticator);
    const verify = jest.spyOn(authenticator, 'verifySecret');
    try {
      const bodies: unknown[] = [];
      const probes: Array<[string, string]> = [
        [`mw_zzzzzzzzzzzz_${'B'.repeat(32)}`, DUMMY_API_KEY_HASH],
        [revoked.plaintext, DUMMY_API_KEY_HASH],
        [`mw_${plaintext.split('_')[1]!}_${'B'.repeat(32)}`, hash],
      ];
      for (const [probe, hash] of probes) {
        verify.mockClear();
        const response = await from(urls[0]!, '192.0.2.77', probe);
        expect(response.status).toBe(401);
        bodies.push(await response.json());
        expect(verify).toHaveBeenCalledTimes(1);
        expect(verify).toHaveBeenCalledWith(expect.any(String), hash);
      }
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
    } finally {
      verify.mockRestore();
    }
  });

  it('should limit requests without a valid key per client address, other addresses and a valid key unaffected', async () => {
    await inOneWindow();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < UNAUTHENTICATED_LIMIT + 1; attempt++) {
      statuses.push((await from(urls[attempt % 2]!, '192.0.2.50', null)).status);
    }
    expect(statuses).toEqual([...Array(UNAUTHENTICATED_LIMIT).fill(401), 429]);
    const limited = await from(urls[0]!, '192.0.2.50', 'mw_zzzzzzzzzzzz_' + 'C'.repeat(32));
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await from(urls[0]!, '192.0.2.51', null)).status).toBe(401);
    const { plaintext } = await new TestFactories(db.prisma).newApiKey({ name: 'same-address', role: 'READ_ONLY', accountId });
    expect((await from(urls[1]!, '192.0.2.50', plaintext)).status).toBe(200);
  });

  it('should answer 503 RATE_LIMITER_UNAVAILABLE within seconds while Redis is down, and serve again when it is back', async () => {
    const target = new URL(redis.url);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    const proxied = new URL(redis.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const config = loadConfig('admin-api', { DATABASE_URL: db.url, REDIS_URL: proxied.toString(), REDIS_PREFIX: redis.prefix, API_RATE_LIMIT_PER_MINUTE: '100' });
    const app = await createAdminApi(config, false);
    const url = await listenOnFreePort(app);
    const { plaintext } = await new TestFactories(db.prisma).newApiKey({ name: 'outage', role: 'READ_ONLY', accountId });
    let isCut = false;
    try {
      expect((await get(url, plaintext)).status).toBe(200);
      await proxy.cut();
      isCut = true;
      const started = performance.now();
      const down = await get(url, plaintext);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ code: 'RATE_LIMITER_UNAVAILABLE' });
      expect(performance.now() - started).toBeLessThan(5000);
      await proxy.restore();
      isCut = false;
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await get(url, plaintext)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
    } finally {
      if (isCut) {
        await proxy.restore();
      }
      await app.close();
      await proxy.cut();
    }
  });

  it('should answer every Mimecast route with 503 SECRETS_KEY_NOT_CONFIGURED when no secrets key is set', async () => {
    const response = await get(urls[0]!, second, `/v1/accounts/${accountId}/integrations/mimecast`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 503, code: 'SECRETS_KEY_NOT_CONFIGURED', detail: expect.stringMatching(/^SECRETS_KEY not configured/) });
    const foreign = await get(urls[0]!, second, `/v1/accounts/00000000-0000-4000-8000-000000000000/integrations/mimecast`);
    expect(foreign.status).toBe(404);
  });
});
