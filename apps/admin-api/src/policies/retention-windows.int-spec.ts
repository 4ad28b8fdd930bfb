import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { createTestDatabase, createTestRedis, listenOnFreePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from '../admin-api.app';

const DAY_MS = 86_400_000;

/**
 * Issue 20 over HTTP: the history routes follow the tenant's retention (`historyDays` of its RETENTION policy) before
 * the purge has run, a PENDING message shows the scan attempts and the last error its worker recorded, and a
 * quarantine item's `expiresAt` is when the retention expires it: its stored expiry, or the tenant's `quarantineDays`
 * after it was made if sooner (the scanner stores the platform's ceiling, so the tenant's window decides); an item past
 * that time is not released any more, even before the purge has deleted it.
 */
describe('admin API retention windows: message history, PENDING scan state, quarantine expiry', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let app: INestApplication;
  let baseUrl: string;
  let factories: TestFactories;

  const get = async (key: string, path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await response.text();
    return { status: response.status, text, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const listed = async (key: string, account: Account) => ((await get(key, `/v1/accounts/${account.id}/messages`)).body.items as Array<{ id: string }>).map((item) => item.id);
  /** A tenant with a TENANT_ADMIN key and, when given, its RETENTION policy's settings. */
  const tenant = async (retention?: { historyDays?: number; quarantineDays?: number }) => {
    const account = await factories.newAccount({ monitorOnly: true });
    if (retention) {
      await db.prisma.policy.create({ data: { kind: 'RETENTION', scope: 'ACCOUNT', accountId: account.id, scopeId: account.id, settings: retention } });
    }
    const key = (await factories.newApiKey({ name: 'retention', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    return { account, key };
  };
  const held = async (account: Account, expiresAt: Date | null, createdAt?: Date) => {
    const message = await factories.newMessage(account);
    const verdict = await db.prisma.verdict.create({
      data: { messageId: message.id, recipient: message.envelopeTo[0]!, checks: [], failedCheck: 'dmarc', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, reasons: [] },
    });
    return db.prisma.quarantineItem.create({ data: { accountId: account.id, messageId: message.id, verdictId: verdict.id, recipient: verdict.recipient, reason: 'dmarc', enforced: true, expiresAt, ...(createdAt ? { createdAt } : {}) } });
  };
  const post = async (key: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const quarantined = async (key: string, account: Account) => {
    const reply = await get(key, `/v1/accounts/${account.id}/quarantine`);
    expect(reply.status).toBe(200);
    return reply.body.items as Array<{ id: string; expiresAt: string }>;
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

  it("should not list, show or hand out a message older than the tenant's historyDays before the purge has run", async () => {
    const { account, key } = await tenant({ historyDays: 7 });
    const old = await factories.newMessage(account, { receivedAt: new Date(Date.now() - 8 * DAY_MS) });
    const recent = await factories.newMessage(account, { receivedAt: new Date(Date.now() - 6 * DAY_MS) });
    // Not purged: the row and its bytes are still there.
    expect(await db.prisma.message.count({ where: { id: old.id } })).toBe(1);

    expect(await listed(key, account)).toEqual([recent.id]);
    const byMessageId = await get(key, `/v1/accounts/${account.id}/messages?messageId=${encodeURIComponent(old.messageIdHeader!)}`);
    expect(byMessageId.body.items).toEqual([]);
    for (const path of ['', '/recipients', '/raw']) {
      const reply = await get(key, `/v1/accounts/${account.id}/messages/${old.id}${path}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
    }
    for (const path of ['', '/recipients', '/raw']) {
      const reply = await get(key, `/v1/accounts/${account.id}/messages/${recent.id}${path}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 200 });
    }
    // Only the download that happened is audited.
    const downloads = await db.prisma.auditEvent.findMany({ where: { accountId: account.id, action: 'message.raw_downloaded' }, select: { objectId: true } });
    expect(downloads).toEqual([{ objectId: recent.id }]);
  });

  it('should keep 30 days of history for a tenant without a retention policy (the default)', async () => {
    const { account, key } = await tenant();
    const eightDays = await factories.newMessage(account, { receivedAt: new Date(Date.now() - 8 * DAY_MS) });
    const past = await factories.newMessage(account, { receivedAt: new Date(Date.now() - 31 * DAY_MS) });
    expect(await listed(key, account)).toEqual([eightDays.id]);
    expect((await get(key, `/v1/accounts/${account.id}/messages/${eightDays.id}`)).status).toBe(200);
    expect((await get(key, `/v1/accounts/${account.id}/messages/${past.id}`)).status).toBe(404);
  });

  it("should show a PENDING message's scan attempts and last error in the list and the detail", async () => {
    const { account, key } = await tenant();
    const pending = await factories.newMessage(account);
    await db.prisma.messageScan.update({ where: { messageId: pending.id }, data: { attempts: 3, lastError: 'Invalid string length' } });

    const [item] = (await get(key, `/v1/accounts/${account.id}/messages`)).body.items as Array<Record<string, unknown>>;
    expect(item).toMatchObject({ id: pending.id, scanStatus: 'PENDING', scanAttempts: 3, scanError: 'Invalid string length' });
    expect((await get(key, `/v1/accounts/${account.id}/messages/${pending.id}`)).body).toMatchObject({ scanStatus: 'PENDING', scanAttempts: 3, scanError: 'Invalid string length' });

    // The scan ends (FAILED): its statement deletes the message_scan row and copies the figures to the message row.
    await db.prisma.messageScan.delete({ where: { messageId: pending.id } });
    await db.prisma.message.update({ where: { id: pending.id }, data: { scanStatus: 'FAILED', scanAttempts: 4, scanError: 'scan failed 4 times: Invalid string length' } });
    expect((await get(key, `/v1/accounts/${account.id}/messages/${pending.id}`)).body).toMatchObject({
      scanStatus: 'FAILED',
      scanAttempts: 4,
      scanError: 'scan failed 4 times: Invalid string length',
    });
  });

  it("should answer the tenant's quarantineDays after creation when that comes before the stored expiry", async () => {
    const { account, key } = await tenant({ quarantineDays: 7 });
    const item = await held(account, new Date(Date.now() + 30 * DAY_MS));
    expect(await quarantined(key, account)).toEqual([expect.objectContaining({ id: item.id, expiresAt: new Date(item.createdAt.getTime() + 7 * DAY_MS).toISOString() })]);
  });

  it('should answer the stored expiry when it comes first, and the window when none is stored', async () => {
    const { account, key } = await tenant();
    const soon = await held(account, new Date(Date.now() + 2 * DAY_MS));
    const unset = await held(account, null);
    const items = await quarantined(key, account);
    expect(items.find((entry) => entry.id === soon.id)?.expiresAt).toBe(soon.expiresAt!.toISOString());
    expect(items.find((entry) => entry.id === unset.id)?.expiresAt).toBe(new Date(unset.createdAt.getTime() + 30 * DAY_MS).toISOString());
  });

  it("should refuse to release an item past the tenant's quarantine window before the purge has run, and still delete it", async () => {
    const { account, key } = await tenant({ quarantineDays: 7 });
    const expired = await held(account, new Date(Date.now() + 300 * DAY_MS), new Date(Date.now() - 8 * DAY_MS));
    const current = await held(account, new Date(Date.now() + 300 * DAY_MS), new Date(Date.now() - 6 * DAY_MS));

    const refused = await post(key, `/v1/accounts/${account.id}/quarantine/${expired.id}/release`);
    expect(refused).toMatchObject({ status: 410, body: { code: 'QUARANTINE_ITEM_EXPIRED' } });
    expect(String(refused.body.detail)).toContain(new Date(expired.createdAt.getTime() + 7 * DAY_MS).toISOString());
    const bulk = await post(key, `/v1/accounts/${account.id}/quarantine/release`, { ids: [expired.id, current.id] });
    expect(bulk.status).toBe(200);
    expect((bulk.body.results as Array<{ id: string; outcome: string }>).map(({ id, outcome }) => ({ id, outcome }))).toEqual([
      { id: expired.id, outcome: 'EXPIRED' },
      { id: current.id, outcome: 'RELEASED' },
    ]);
    expect((await db.prisma.quarantineItem.findUniqueOrThrow({ where: { id: expired.id } })).status).toBe('HELD');
    // Nothing was queued for delivery and nothing audited as released for the expired item.
    expect(await db.prisma.auditEvent.count({ where: { accountId: account.id, objectId: expired.id, action: 'quarantine.released' } })).toBe(0);

    // "Release and allow sender" is refused before anything changes: no allow-list entry for the sender either.
    const allowed = await post(key, `/v1/accounts/${account.id}/quarantine/${expired.id}/release-and-allow-sender`);
    expect(allowed).toMatchObject({ status: 410, body: { code: 'QUARANTINE_ITEM_EXPIRED' } });
    expect(await db.prisma.policy.count({ where: { accountId: account.id, kind: { not: 'RETENTION' } } })).toBe(0);

    // Deleting it is still allowed (the purge would do the same).
    const deleted = await fetch(`${baseUrl}/v1/accounts/${account.id}/quarantine/${expired.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    expect(deleted.status).toBe(200);
    expect((await db.prisma.quarantineItem.findUniqueOrThrow({ where: { id: expired.id } })).status).toBe('DELETED');
  });
});
