import type { Pool, PoolClient } from 'pg';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { type Account, attachPgPool, AuditRepository, createPgPool, MessageHistoryRepository, PostgresRawMessageStore, PrismaClient, type PrismaService } from '@mailwarden/db';

const DAY_MS = 86_400_000;
const ACTOR = { actor: 'test', actorKeyId: null };

/**
 * Message history past the tenant's history window (issue 20): a message older than the window is shown nowhere
 * (search, detail, recipients, raw download) even while the purge has not removed it yet. And a PENDING message's scan
 * state (message_scan) shown with it, read in the same statement as the page's rows.
 */
describe('MessageHistoryRepository: history window and PENDING scan state', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let history: MessageHistoryRepository;
  let account: Account;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    history = new MessageHistoryRepository(db.prisma as unknown as PrismaService, new AuditRepository(db.prisma as unknown as PrismaService), new PostgresRawMessageStore());
    account = await factories.newAccount();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should not show a message received before the history window, though it is still stored', async () => {
    const historyDays = 7;
    const now = Date.now();
    const old = await factories.newMessage(account, { receivedAt: new Date(now - (historyDays + 1) * DAY_MS) });
    const recent = await factories.newMessage(account, { receivedAt: new Date(now - (historyDays - 1) * DAY_MS) });
    const window = { historyStart: new Date(now - historyDays * DAY_MS) };

    // Still stored (the purge has not run): without a window both are there.
    expect((await history.search(account.id, {}, { limit: 10 })).map((message) => message.id)).toEqual([recent.id, old.id]);
    expect(await history.findDetail(account.id, old.id)).not.toBeNull();

    expect((await history.search(account.id, window, { limit: 10 })).map((message) => message.id)).toEqual([recent.id]);
    // A filter naming the old message exactly finds nothing either.
    expect(await history.search(account.id, { ...window, messageId: old.messageIdHeader! }, { limit: 10 })).toEqual([]);
    expect(await history.findDetail(account.id, old.id, window)).toBeNull();
    expect(await history.findRecipientsHistory(account.id, old.id, window)).toBeNull();
    const auditBefore = await db.prisma.auditEvent.count({ where: { accountId: account.id } });
    expect(await history.downloadRaw(account.id, old.id, ACTOR, 'message.raw_downloaded', window)).toBeNull();
    // Nothing was downloaded, so nothing is audited.
    expect(await db.prisma.auditEvent.count({ where: { accountId: account.id } })).toBe(auditBefore);

    expect((await history.findDetail(account.id, recent.id, window))?.id).toBe(recent.id);
    expect((await history.findRecipientsHistory(account.id, recent.id, window))?.id).toBe(recent.id);
    expect((await history.downloadRaw(account.id, recent.id, ACTOR, 'message.raw_downloaded', window))?.raw.byteLength).toBe(recent.size);
  });

  it("should show a PENDING message's attempts and last error from message_scan, and the row's once the scan ended", async () => {
    const other = await factories.newAccount();
    const pending = await factories.newMessage(other);
    const ended = await factories.newMessage(other, { receivedAt: new Date(Date.now() - 60_000) });
    // The trigger made a message_scan row for each; a worker counted two attempts of the first and kept an error.
    await db.prisma.messageScan.update({ where: { messageId: pending.id }, data: { attempts: 2, lastError: 'Invalid string length' } });
    // The second one's scan ended: the verdict statement deletes its message_scan row and copies the attempts.
    await db.prisma.messageScan.delete({ where: { messageId: ended.id } });
    await db.prisma.message.update({ where: { id: ended.id }, data: { scanStatus: 'SCANNED', scanAttempts: 3, scannedAt: new Date() } });

    const [first, second] = await history.search(other.id, {}, { limit: 10 });
    expect(first).toMatchObject({ id: pending.id, scanStatus: 'PENDING', scanAttempts: 0, scan: { attempts: 2, lastError: 'Invalid string length' } });
    expect(second).toMatchObject({ id: ended.id, scanStatus: 'SCANNED', scanAttempts: 3, scan: null });
    expect(await history.findDetail(other.id, pending.id)).toMatchObject({ scan: { attempts: 2, lastError: 'Invalid string length' } });
    expect(await history.findDetail(other.id, ended.id)).toMatchObject({ scan: null, scanAttempts: 3 });
  });

  it('should match a subject search as a case-insensitive substring, across words, only in the tenant, page by page', async () => {
    const tenant = await factories.newAccount();
    const neighbour = await factories.newAccount();
    const now = Date.now();
    const subjects = ['Invoice 77 for order 1234567', 'invoice 78 FOR ORDER 12345678', 'Reorder 1234567 now', 'Invoice 79 for order 7123456', 'order-1234567', 'Order  1234567'];
    const stored = [];
    for (const [index, subject] of subjects.entries()) {
      stored.push(await factories.newMessage(tenant, { subject, receivedAt: new Date(now - index * 1000) }));
    }
    // The same subject in another tenant is never found.
    await factories.newMessage(neighbour, { subject: 'Invoice 77 for order 1234567', receivedAt: new Date(now) });
    const found = async (subject: string, limit = 10, after?: { receivedAt: Date; id: string }) =>
      (await history.search(tenant.id, { subject }, { limit, after })).map((message) => message.subject);

    // What ILIKE '%text%' finds: inside words, any case, the whole text (not each of its words).
    expect(await found('order 1234567')).toEqual(['Invoice 77 for order 1234567', 'invoice 78 FOR ORDER 12345678', 'Reorder 1234567 now']);
    expect(await found('R 12345')).toEqual(['Invoice 77 for order 1234567', 'invoice 78 FOR ORDER 12345678', 'Reorder 1234567 now']);
    expect(await found('1234567')).toEqual(['Invoice 77 for order 1234567', 'invoice 78 FOR ORDER 12345678', 'Reorder 1234567 now', 'order-1234567', 'Order  1234567']);
    expect(await found('order-12')).toEqual(['order-1234567']);
    expect(await found('order  123')).toEqual(['Order  1234567']);
    expect(await found('for order 7')).toEqual(['Invoice 79 for order 7123456']);
    expect(await found('order 9999999')).toEqual([]);

    const first = await history.search(tenant.id, { subject: 'order 1234567' }, { limit: 2 });
    expect(first.map((message) => message.id)).toEqual([stored[0]!.id, stored[1]!.id]);
    expect(await found('order 1234567', 2, { receivedAt: first[1]!.receivedAt, id: first[1]!.id })).toEqual(['Reorder 1234567 now']);
  });

  it('should read a page of PENDING messages with their verdicts and scan state in two statements, whatever its size', async () => {
    const tenant = await factories.newAccount();
    for (let index = 0; index < 5; index++) {
      const message = await factories.newMessage(tenant);
      await db.prisma.messageScan.update({ where: { messageId: message.id }, data: { attempts: index } });
    }
    // A client of its own whose pool counts every statement sent, whichever way the driver adapter sends it.
    const { pool, adapter } = createPgPool({ databaseUrl: db.url, poolSize: 1 });
    const counted = countStatements(pool);
    const client = new PrismaClient({ adapter });
    attachPgPool(client, pool);
    try {
      const repository = new MessageHistoryRepository(client as unknown as PrismaService, new AuditRepository(client as unknown as PrismaService), new PostgresRawMessageStore());
      await repository.search(tenant.id, {}, { limit: 1 });
      counted.reset();
      const page = await repository.search(tenant.id, {}, { limit: 10 });
      expect(page.map((message) => message.scan?.attempts).sort()).toEqual([0, 1, 2, 3, 4]);
      // The page's keys (filtered in SQL), then those rows with their verdicts and scan state: no statement per message.
      expect(counted.statements()).toBe(2);
    } finally {
      await client.$disconnect();
    }
  });
});

/** Counts the statements sent through `pool`: the query() of each client it hands out (its own query() uses one too). */
function countStatements(pool: Pool): { statements: () => number; reset: () => void } {
  let count = 0;
  const wrap = <T extends { query: (...args: never[]) => unknown }>(target: T): void => {
    const original = target.query.bind(target) as (...args: unknown[]) => unknown;
    (target as { query: unknown }).query = (...args: unknown[]) => {
      count += 1;
      return original(...args);
    };
  };
  const wrapped = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    if (!wrapped.has(client)) {
      wrapped.add(client);
      wrap(client as unknown as { query: (...args: never[]) => unknown });
    }
  });
  return { statements: () => count, reset: () => (count = 0) };
}
