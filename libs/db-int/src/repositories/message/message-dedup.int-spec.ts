import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { type IncomingMessage, MessageRepository, PostgresRawMessageStore, type PrismaService } from '@mailwarden/db';

/**
 * The dedup key on the partitioned "message" table (migration 20261206160000): a unique index there could only hold
 * within one day's partition, so the key lives in "message_dedup". A copy is stored once whatever day the first one
 * is filed under, under concurrency, and a refused duplicate leaves nothing behind.
 */
describe('message dedup across day partitions', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let messages: MessageRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    messages = new MessageRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
  });

  afterAll(async () => {
    await db?.drop();
  });

  const copy = (accountId: string, dedupKey: string): IncomingMessage => ({
    accountId,
    source: 'JOURNAL',
    direction: 'INBOUND',
    envelopeFrom: 'a@sender.example',
    envelopeTo: ['b@customer.example'],
    messageIdHeader: '<dup@sender.example>',
    dedupKey,
    raw: Buffer.from('Subject: dup\r\n\r\nbody'),
  });
  const counts = async (accountId: string) => ({
    messages: await db.prisma.message.count({ where: { accountId } }),
    raw: await db.prisma.rawMessage.count(),
    dedup: await db.prisma.messageDedup.count({ where: { accountId } }),
  });

  it('should store a copy once when the first one sits in another day partition, and leave no bytes of the second', async () => {
    const account = await factories.newAccount();
    const first = await messages.storeIncoming(copy(account.id, '<dup@sender.example>|b@customer.example'));
    // The first copy filed three days ahead (another partition of "message"): a per-partition unique key would miss it.
    await db.prisma.$executeRawUnsafe(`UPDATE "message" SET "received_at" = now() + interval '3 days' WHERE "id" = $1::uuid`, first.message.id);
    const partition = await db.prisma.$queryRawUnsafe<Array<{ name: string }>>(`SELECT tableoid::regclass::text AS "name" FROM "message" WHERE "id" = $1::uuid`, first.message.id);
    expect(partition[0]!.name).toMatch(/^message_p\d{8}$/);
    const before = await counts(account.id);

    const second = await messages.storeIncoming(copy(account.id, '<dup@sender.example>|b@customer.example'));

    expect(second).toEqual({ message: { id: first.message.id }, duplicate: true });
    expect(await counts(account.id)).toEqual(before);
    expect(before).toMatchObject({ messages: 1, dedup: 1 });
  });

  it('should store concurrent copies of one key exactly once', async () => {
    const account = await factories.newAccount();
    const results = await Promise.all(Array.from({ length: 8 }, () => messages.storeIncoming(copy(account.id, 'concurrent-key'))));
    const ids = new Set(results.map((result) => result.message.id));
    expect(ids.size).toBe(1);
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(await counts(account.id)).toMatchObject({ messages: 1, dedup: 1 });
  });

  it("should not take another tenant's copy for a duplicate", async () => {
    const a = await factories.newAccount();
    const b = await factories.newAccount();
    const stored = await Promise.all([messages.storeIncoming(copy(a.id, 'shared-key')), messages.storeIncoming(copy(b.id, 'shared-key'))]);
    expect(stored.map((result) => result.duplicate)).toEqual([false, false]);
    expect(stored[0]!.message.id).not.toBe(stored[1]!.message.id);
  });
});
