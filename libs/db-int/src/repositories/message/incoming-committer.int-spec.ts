import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createTestDatabase, holdTableLock, MetricsSnapshot, TestFactories, type TestDatabase, untilWaitingOnLock } from '@mailwarden/testing';
import { IncomingCommitter, type IncomingMessage, MessageRepository, observeStatements, PostgresRawMessageStore, type PrismaService, type StoredIncoming } from '@mailwarden/db';

/**
 * Group commit of received copies (issue 20): the copies of concurrent sessions share one transaction, and nothing
 * about what a caller is told changes: it hears of its copy only after the commit, a failure reaches only the copies
 * it concerns, duplicates are still found (inside one batch too), and each stored copy still waits for its scan.
 */
describe('group commit of received copies (IncomingCommitter, MessageRepository.storeIncomingMany)', () => {
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

  const copy = (accountId: string, subject: string, extra: Partial<IncomingMessage> = {}): IncomingMessage => ({
    accountId,
    source: 'JOURNAL',
    direction: 'INBOUND',
    envelopeFrom: 'alice@partner.example',
    envelopeTo: ['bob@customer.example'],
    subject,
    messageIdHeader: `<${subject}@partner.example>`,
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`),
    ...extra,
  });

  /** The transaction (xmin) of each stored message row and of its raw bytes, by subject. */
  async function transactions(accountId: string): Promise<Map<string, { message: string; raw: string }>> {
    const rows = await db.prisma.$queryRawUnsafe<Array<{ subject: string; message: string; raw: string }>>(
      `SELECT m."subject", m.xmin::text AS "message", r.xmin::text AS "raw" FROM "message" m JOIN "raw_message" r ON r."id" = m."raw_message_id" WHERE m."account_id" = $1::uuid`,
      accountId,
    );
    return new Map(rows.map((row) => [row.subject, { message: row.message, raw: row.raw }]));
  }

  /** Whether a message and its bytes are committed: read on another connection, which sees committed rows only. */
  async function committed(id: string): Promise<boolean> {
    const [row] = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS "n" FROM "message" m JOIN "raw_message" r ON r."id" = m."raw_message_id" WHERE m."id" = $1::uuid`,
      id,
    );
    return row!.n === 1;
  }

  it('should commit the copies that arrive during a commit together, one transaction per batch within the bound, each caller told only after its commit', async () => {
    const account = await factories.newAccount();
    const registry = new Registry();
    const committer = new IncomingCommitter(messages, { commitMaxBatch: 4 }, registry);
    const told: Array<{ subject: string; committedWhenTold: boolean }> = [];
    const store = (subject: string): Promise<StoredIncoming> =>
      committer.store(copy(account.id, subject)).then(async (stored) => {
        told.push({ subject, committedWhenTold: await committed(stored.message.id) });
        return stored;
      });

    const { release } = await holdTableLock(db.url, 'message_dedup');
    const first = store('first');
    await untilWaitingOnLock(db.prisma);
    const later = ['a', 'b', 'c', 'd', 'e', 'f'].map((subject) => store(subject));
    expect(committer.waitingCopies).toBe(6);
    expect(told).toEqual([]);
    await release();
    const stored = await Promise.all([first, ...later]);

    expect(stored.every((result) => !result.duplicate)).toBe(true);
    expect(new Set(stored.map((result) => result.message.id)).size).toBe(7);
    expect(told).toHaveLength(7);
    expect(told.every((entry) => entry.committedWhenTold)).toBe(true);
    // Batches: the first alone (nothing else waited), then at most 4 of those that arrived meanwhile, then the rest.
    const xmin = await transactions(account.id);
    const batches = new Map<string, string[]>();
    for (const [subject, tx] of xmin) {
      expect(tx.raw).toBe(tx.message);
      batches.set(tx.message, [...(batches.get(tx.message) ?? []), subject]);
    }
    expect([...batches.values()].map((subjects) => subjects.sort().join(''))).toEqual(expect.arrayContaining(['first', 'abcd', 'ef']));
    expect(batches.size).toBe(3);
    // Each stored copy waits for its scan (the trigger's "message_scan" row), batched or not.
    expect(await db.prisma.messageScan.count({ where: { accountId: account.id } })).toBe(7);
    const metrics = MetricsSnapshot.parse(await registry.metrics());
    expect(metrics.value('mailwarden_message_commit_batch_size_count', { source: 'JOURNAL' })).toBe(3);
    expect(metrics.value('mailwarden_message_commit_batch_size_sum', { source: 'JOURNAL' })).toBe(7);
  });

  it('should keep a batch within its bytes bound, and commit a copy larger than the bound alone', async () => {
    const account = await factories.newAccount();
    const committer = new IncomingCommitter(messages, { commitMaxBatch: 64, commitMaxBatchBytes: 2_000 }, new Registry());
    const sized = (subject: string, bytes: number) => copy(account.id, subject, { raw: Buffer.alloc(bytes, 'x') });

    const { release } = await holdTableLock(db.url, 'message_dedup');
    const first = committer.store(sized('first', 10));
    await untilWaitingOnLock(db.prisma);
    // 900 + 900 fit in 2,000 bytes, the next 900 does not; 5,000 exceeds the bound on its own; then 10 + 10.
    const later = [sized('a', 900), sized('b', 900), sized('c', 900), sized('huge', 5_000), sized('d', 10), sized('e', 10)].map((input) => committer.store(input));
    await release();
    await Promise.all([first, ...later]);

    const batches = new Map<string, string[]>();
    for (const [subject, tx] of await transactions(account.id)) {
      batches.set(tx.message, [...(batches.get(tx.message) ?? []), subject].sort());
    }
    expect([...batches.values()].map((subjects) => subjects.join('+')).sort()).toEqual(['a+b', 'c', 'd+e', 'first', 'huge']);
  });

  it('should send a batch as one statement', async () => {
    const account = await factories.newAccount();
    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    try {
      await messages.storeIncomingMany([copy(account.id, 'one'), copy(account.id, 'two'), copy(account.id, 'three')]);
    } finally {
      observeStatements(null);
    }
    expect(statements).toHaveLength(1);
    expect(new Set([...(await transactions(account.id)).values()].map((tx) => tx.message)).size).toBe(1);
  });

  it('should reject every caller of a batch that cannot be stored and keep every copy already acknowledged', async () => {
    const account = await factories.newAccount();
    const committer = new IncomingCommitter(messages, { commitMaxBatch: 64 }, new Registry());
    const acknowledged = await committer.store(copy(account.id, 'acknowledged'));

    const { release } = await holdTableLock(db.url, 'message_dedup');
    const first = committer.store(copy(account.id, 'first'));
    await untilWaitingOnLock(db.prisma);
    // Copies of a tenant deleted in the meantime (the session looked it up before): every one fails its foreign key.
    const gone = randomUUID();
    const doomed = ['x', 'y', 'z'].map((subject) => committer.store(copy(gone, subject)).then(() => 'stored', (error: Error) => error.message));
    expect(committer.waitingCopies).toBe(3);
    await release();

    expect((await first).duplicate).toBe(false);
    const failures = await Promise.all(doomed);
    expect(failures.every((failure) => /foreign key|violates/i.test(failure))).toBe(true);
    expect(await committed(acknowledged.message.id)).toBe(true);
    expect(await db.prisma.message.count({ where: { accountId: account.id } })).toBe(2);
    expect(await db.prisma.message.count({ where: { accountId: gone } })).toBe(0);
    // Nothing of the failed statement stayed: every raw content belongs to a message.
    const [orphans] = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS "n" FROM "raw_message" r WHERE NOT EXISTS (SELECT 1 FROM "message" m WHERE m."raw_message_id" = r."id")`,
    );
    expect(orphans!.n).toBe(0);
  });

  it('should store the others of a batch when one copy breaks a constraint, and fail only that one', async () => {
    const account = await factories.newAccount();
    const outcomes = await messages.storeIncomingMany([copy(account.id, 'good-1'), copy(randomUUID(), 'bad'), copy(account.id, 'good-2')]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const ids = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.message.id] : []));
    for (const id of ids) {
      expect(await committed(id)).toBe(true);
    }
    expect(await db.prisma.messageScan.count({ where: { messageId: { in: ids } } })).toBe(2);
  });

  it('should store two identical Google copies in one batch once, and report the other as its duplicate', async () => {
    const account = await factories.newAccount();
    const other = await factories.newAccount();
    const dedupKey = '<same@partner.example>\nbob@customer.example';
    const rawBefore = await db.prisma.rawMessage.count();

    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const outcomes = await messages
      .storeIncomingMany([copy(account.id, 'google-a', { dedupKey }), copy(account.id, 'google-b', { dedupKey }), copy(other.id, 'google-other-tenant', { dedupKey })])
      .finally(() => observeStatements(null));

    const [a, b, otherTenant] = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : null));
    expect(a).toEqual({ message: { id: expect.any(String) }, duplicate: false });
    expect(b).toEqual({ message: { id: a!.message.id }, duplicate: true });
    expect(otherTenant).toMatchObject({ duplicate: false });
    expect(otherTenant!.message.id).not.toBe(a!.message.id);
    expect(await db.prisma.message.count({ where: { accountId: account.id } })).toBe(1);
    expect(await db.prisma.messageDedup.count({ where: { accountId: account.id } })).toBe(1);
    expect(await db.prisma.rawMessage.count()).toBe(rawBefore + 2);
    // Found before the statement: no failed statement, no copy-by-copy retry.
    expect(statements).toHaveLength(1);
  });

  it('should report a copy stored before as a duplicate in a batch, and store the rest of the batch', async () => {
    const account = await factories.newAccount();
    const dedupKey = '<earlier@partner.example>\nbob@customer.example';
    const earlier = await messages.storeIncoming(copy(account.id, 'earlier', { dedupKey }));
    const rawBefore = await db.prisma.rawMessage.count();

    const outcomes = await messages.storeIncomingMany([copy(account.id, 'fresh-1'), copy(account.id, 'again', { dedupKey }), copy(account.id, 'fresh-2', { dedupKey: 'another key' })]);

    const values = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason));
    expect(values[1]).toEqual({ message: { id: earlier.message.id }, duplicate: true });
    expect(values[0]).toMatchObject({ duplicate: false });
    expect(values[2]).toMatchObject({ duplicate: false });
    expect(await db.prisma.message.count({ where: { accountId: account.id } })).toBe(3);
    expect(await db.prisma.rawMessage.count()).toBe(rawBefore + 2);
  });
});
