import { Client } from 'pg';
import { MessageRepository, PostgresRawMessageStore, RetentionRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { SearchIndexFlushService } from './search-index-flush.service';

/**
 * The search GIN indexes of "message" keep a pending list (migration 20261208100000): a store appends its entries,
 * the scan workers' flush moves them into the tree. A message is found by subject and recipient through the index
 * before the flush (PostgreSQL reads the list) and after it; the flush empties the list.
 */
describe(SearchIndexFlushService.name, () => {
  let db: TestDatabase;
  let pg: Client;
  let messages: MessageRepository;
  let flush: SearchIndexFlushService;
  let accountId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const prisma = db.prisma as unknown as PrismaService;
    messages = new MessageRepository(prisma, new PostgresRawMessageStore());
    flush = new SearchIndexFlushService(new RetentionRepository(prisma));
    accountId = (await new TestFactories(db.prisma).newAccount()).id;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    // Only the indexes may answer: a sequential scan would find the row whatever the index holds.
    await pg.query('SET enable_seqscan = off');
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  async function found(subject: string, recipient: string): Promise<{ bySubject: number; byRecipient: number }> {
    const { rows } = await pg.query<{ bySubject: number; byRecipient: number }>(
      `SELECT (SELECT count(*)::int FROM "message" WHERE "subject" ILIKE $1) AS "bySubject",
              (SELECT count(*)::int FROM "message" WHERE "envelope_to" @> ARRAY[$2]::text[]) AS "byRecipient"`,
      [`%${subject}%`, recipient],
    );
    return rows[0]!;
  }

  it('should find a stored message through the indexes before and after the flush, which empties the pending lists', async () => {
    const subject = `Invoice ${Date.now()} overdue`;
    await messages.storeIncoming({
      accountId,
      source: 'JOURNAL',
      direction: 'INBOUND',
      envelopeFrom: 'billing@sender.example',
      envelopeTo: ['flush-test@customer.example'],
      subject,
      messageIdHeader: '<flush-test@sender.example>',
      dedupKey: null,
      raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody`),
    });
    expect(await found(subject.slice(8, 20), 'flush-test@customer.example')).toEqual({ bySubject: 1, byRecipient: 1 });

    const { rows: plan } = await pg.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT 1 FROM "message" WHERE "subject" ILIKE '%overdue%'`);
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('subject_idx');

    expect(await flush.flush()).toBeGreaterThan(0); // the store's entries were in the lists
    expect(await flush.flush()).toBe(0);
    expect(await found(subject.slice(8, 20), 'flush-test@customer.example')).toEqual({ bySubject: 1, byRecipient: 1 });
  });
});
