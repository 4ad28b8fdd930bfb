import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { createTestDatabase, createTestRedis, listenOnFreePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from '../admin-api.app';

const DAY_MS = 86_400_000;

/**
 * Issue 20: a quarantine item's `expiresAt` is when the retention run expires it (README "Retention"): its stored
 * expiry, or the tenant's `quarantineDays` after it was made if sooner. The scanner stores a fixed 30-day expiry, so a
 * tenant with a shorter window was told its items stay longer than they do.
 */
describe('admin API quarantine: expiry as the retention applies it', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let app: INestApplication;
  let baseUrl: string;
  let factories: TestFactories;

  const tenant = async (quarantineDays?: number) => {
    const account = await factories.newAccount();
    if (quarantineDays !== undefined) {
      await db.prisma.policy.create({ data: { kind: 'RETENTION', scope: 'ACCOUNT', accountId: account.id, scopeId: account.id, settings: { quarantineDays } } });
    }
    const key = (await factories.newApiKey({ name: 'quarantine', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    return { account, key };
  };
  const held = async (account: Account, expiresAt: Date | null) => {
    const message = await factories.newMessage(account);
    const verdict = await db.prisma.verdict.create({
      data: { messageId: message.id, recipient: message.envelopeTo[0]!, checks: [], failedCheck: 'dmarc', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, reasons: [] },
    });
    return db.prisma.quarantineItem.create({ data: { accountId: account.id, messageId: message.id, verdictId: verdict.id, recipient: verdict.recipient, reason: 'dmarc', enforced: true, expiresAt } });
  };
  const listed = async (key: string, account: Account) => {
    const response = await fetch(`${baseUrl}/v1/accounts/${account.id}/quarantine`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Array<{ id: string; expiresAt: string }> }).items;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    factories = new TestFactories(db.prisma);
    const config = loadConfig('admin-api', { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'fatal' });
    app = await createAdminApi(config, false);
    baseUrl = await listenOnFreePort(app);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  it("should answer the tenant's quarantineDays after creation when that comes before the stored expiry", async () => {
    const { account, key } = await tenant(7);
    const item = await held(account, new Date(Date.now() + 30 * DAY_MS));
    expect(await listed(key, account)).toEqual([expect.objectContaining({ id: item.id, expiresAt: new Date(item.createdAt.getTime() + 7 * DAY_MS).toISOString() })]);
  });

  it('should answer the stored expiry when it comes first, and the window when none is stored', async () => {
    const { account, key } = await tenant();
    const soon = await held(account, new Date(Date.now() + 2 * DAY_MS));
    const unset = await held(account, null);
    const items = await listed(key, account);
    expect(items.find((entry) => entry.id === soon.id)?.expiresAt).toBe(soon.expiresAt!.toISOString());
    expect(items.find((entry) => entry.id === unset.id)?.expiresAt).toBe(new Date(unset.createdAt.getTime() + 30 * DAY_MS).toISOString());
  });
});
