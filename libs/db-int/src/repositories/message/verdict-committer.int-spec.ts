import { Registry } from 'prom-client';
import { createTestDatabase, holdTableLock, MetricsSnapshot, TestFactories, type TestDatabase, untilWaitingOnLock } from '@mailwarden/testing';
import { type IncomingMessage, MessageRepository, observeStatements, PostgresRawMessageStore, type PrismaService, VERDICT_TOPIC, VerdictCommitter, type VerdictInput, type VerdictWrite } from '@mailwarden/db';

/**
 * Group commit of the scan side (issue 20): the verdicts (and attempt counts) of concurrent scans share one statement
 * and transaction, and nothing about what a scan is told changes: exactly one verdict write per message (in one batch
 * too), its own outcome only after the commit, a failure reaching only the write it concerns, the statistics of a
 * batch one upsert per key.
 */
describe('group commit of verdicts (VerdictCommitter, MessageRepository.saveVerdictsMany)', () => {
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

  const copy = (accountId: string, subject: string, envelopeTo = ['bob@customer.example', 'carol@customer.example']): IncomingMessage => ({
    accountId,
    source: 'JOURNAL',
    direction: 'INBOUND',
    envelopeFrom: 'alice@partner.example',
    envelopeTo,
    subject,
    messageIdHeader: `<${subject}@partner.example>`,
    raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`),
  });
  const verdict = (recipient: string, decidedAction: VerdictInput['decidedAction'], failedCheck: string | null = null): VerdictInput => ({
    recipient,
    checks: [],
    failedCheck,
    decidedAction,
    appliedAction: null,
    enforced: false,
    reasons: [{ kind: 'sender-check', detail: failedCheck ?? 'pass' }],
    skippedReason: null,
  });

  /** Stored PENDING messages of the account, with their write (one DELIVER verdict per recipient, or `action`). */
  async function pending(accountId: string, count: number, action: VerdictInput['decidedAction'] = 'DELIVER'): Promise<VerdictWrite[]> {
    const stored = await messages.storeIncomingMany(Array.from({ length: count }, (_, index) => copy(accountId, `m${index}-${Math.random()}`)));
    return stored.map((outcome) => {
      if (outcome.status === 'rejected') {
        throw outcome.reason;
      }
      const id = outcome.value.message.id;
      return { message: { id, accountId }, verdicts: [verdict('bob@customer.example', action, action === 'DELIVER' ? null : 'dmarc'), verdict('carol@customer.example', 'DELIVER')] };
    });
  }

  /** The transaction (xmin) that wrote each message's outbox event. */
  async function outboxTransactions(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = await db.prisma.$queryRawUnsafe<Array<{ id: string; tx: string }>>(
      `SELECT "aggregate_id" AS "id", xmin::text AS "tx" FROM "outbox_event" WHERE "aggregate_id" = ANY($1::text[])`,
      ids,
    );
    return new Map(rows.map((row) => [row.id, row.tx]));
  }

  it('should write the verdicts of several messages of two tenants in one statement, each claimed, the statistics one upsert per key', async () => {
    const account = await factories.newAccount();
    const other = await factories.newAccount();
    const writes = [...(await pending(account.id, 3, 'QUARANTINE')), ...(await pending(other.id, 2))];
    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const outcomes = await messages.saveVerdictsMany(writes).finally(() => observeStatements(null));

    expect(statements).toHaveLength(1);
    expect(outcomes).toEqual(writes.map(() => ({ status: 'fulfilled', value: { alreadyScanned: false } })));
    const ids = writes.map((write) => write.message.id);
    expect(new Set((await outboxTransactions(ids)).values()).size).toBe(1);
    for (const write of writes) {
      expect(await db.prisma.message.findUniqueOrThrow({ where: { id: write.message.id } })).toMatchObject({ scanStatus: 'SCANNED', accountId: write.message.accountId });
      expect(await db.prisma.verdict.count({ where: { messageId: write.message.id } })).toBe(2);
      expect(await db.prisma.outboxEvent.findMany({ where: { aggregateId: write.message.id } })).toEqual([
        expect.objectContaining({ topic: VERDICT_TOPIC, accountId: write.message.accountId, payload: { messageId: write.message.id } }),
      ]);
    }
    expect(await db.prisma.messageScan.count({ where: { messageId: { in: ids } } })).toBe(0);
    // Each tenant's quarantine, history and statistics hold its own messages only.
    expect(await db.prisma.quarantineItem.count({ where: { accountId: account.id } })).toBe(3);
    expect(await db.prisma.quarantineItem.count({ where: { accountId: other.id } })).toBe(0);
    expect(await db.prisma.recipientEvent.count({ where: { messageId: { in: ids.slice(0, 3) } } })).toBe(3 * 2 + 3);
    const hourly = await db.prisma.statsHourly.findMany({ where: { accountId: { in: [account.id, other.id] } } });
    // One row per (tenant, key) for the whole batch: the statement picks one shard.
    expect(hourly.map((row) => `${row.accountId === account.id ? 'a' : 'o'} ${row.decidedAction} ${row.failedCheck} ${row.count}`).sort()).toEqual(
      ['a DELIVER  3', 'a QUARANTINE dmarc 3', 'o DELIVER  4'].sort(),
    );
    const top = await db.prisma.statsTopHourly.findMany({ where: { accountId: account.id } });
    expect(top.map((row) => `${row.dimension} ${row.value} ${row.count}`).sort()).toEqual(['recipient bob@customer.example 3', 'sender alice@partner.example 3']);
    expect(await db.prisma.statsTopHourly.count({ where: { accountId: other.id } })).toBe(0);
  });

  it('should claim a message given twice in one batch once: the other write is alreadyScanned and writes nothing', async () => {
    const account = await factories.newAccount();
    const [a, b] = await pending(account.id, 2);
    const twice: VerdictWrite = { ...a!, verdicts: [verdict('bob@customer.example', 'QUARANTINE', 'spf'), verdict('carol@customer.example', 'QUARANTINE', 'spf')] };
    const outcomes = await messages.saveVerdictsMany([a!, b!, twice]);

    expect(outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value.alreadyScanned)).toEqual([false, false, true]);
    const written = await db.prisma.verdict.findMany({ where: { messageId: a!.message.id } });
    expect(written.map((row) => row.decidedAction)).toEqual(['DELIVER', 'DELIVER']);
    expect(await db.prisma.quarantineItem.count({ where: { messageId: a!.message.id } })).toBe(0);
    expect(await db.prisma.outboxEvent.count({ where: { aggregateId: a!.message.id } })).toBe(1);
  });

  it('should tell a message scanned before alreadyScanned and claim the rest of the batch', async () => {
    const account = await factories.newAccount();
    const [done, fresh] = await pending(account.id, 2);
    expect(await messages.saveVerdicts(done!.message, [...done!.verdicts])).toEqual({ alreadyScanned: false });
    const outcomes = await messages.saveVerdictsMany([done!, fresh!]);

    expect(outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value.alreadyScanned)).toEqual([true, false]);
    expect(await db.prisma.verdict.count({ where: { messageId: done!.message.id } })).toBe(2);
    expect(await db.prisma.outboxEvent.count({ where: { aggregateId: done!.message.id } })).toBe(1);
  });

  it('should write the others of a batch when one write breaks the statement, and fail only that one', async () => {
    const account = await factories.newAccount();
    const [good1, bad, good2] = await pending(account.id, 3);
    const broken: VerdictWrite = { ...bad!, verdicts: [{ ...verdict('bob@customer.example', 'DELIVER'), decidedAction: 'NOT_AN_ACTION' as VerdictInput['decidedAction'] }] };
    const outcomes = await messages.saveVerdictsMany([good1!, broken, good2!]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: bad!.message.id } })).toMatchObject({ scanStatus: 'PENDING' });
    expect(await db.prisma.messageScan.count({ where: { messageId: bad!.message.id } })).toBe(1);
    for (const good of [good1!, good2!]) {
      expect(await db.prisma.message.findUniqueOrThrow({ where: { id: good.message.id } })).toMatchObject({ scanStatus: 'SCANNED' });
    }
  });

  it('should commit the writes that arrive during a commit together, within the bound, each scan told only after its commit', async () => {
    const account = await factories.newAccount();
    const registry = new Registry();
    const committer = new VerdictCommitter(messages, { commitMaxBatch: 4 }, registry);
    const writes = await pending(account.id, 7);
    const told: Array<{ id: string; committedWhenTold: boolean }> = [];
    const save = (write: VerdictWrite) =>
      committer.save(write).then(async (outcome) => {
        told.push({ id: write.message.id, committedWhenTold: (await db.prisma.outboxEvent.count({ where: { aggregateId: write.message.id } })) === 1 });
        return outcome;
      });

    const { release } = await holdTableLock(db.url, 'outbox_event');
    const first = save(writes[0]!);
    await untilWaitingOnLock(db.prisma);
    const later = writes.slice(1).map((write) => save(write));
    expect(committer.waitingWrites).toBe(6);
    await release();
    const outcomes = await Promise.all([first, ...later]);

    expect(outcomes.every((outcome) => !outcome.alreadyScanned)).toBe(true);
    expect(told).toHaveLength(7);
    expect(told.every((entry) => entry.committedWhenTold)).toBe(true);
    const tx = await outboxTransactions(writes.map((write) => write.message.id));
    const batches = new Map<string, number>();
    for (const id of tx.values()) {
      batches.set(id, (batches.get(id) ?? 0) + 1);
    }
    expect([...batches.values()].sort()).toEqual([1, 2, 4]);
    const metrics = MetricsSnapshot.parse(await registry.metrics());
    expect(metrics.value('mailwarden_scan_commit_batch_size_count', { write: 'verdicts' })).toBe(3);
    expect(metrics.value('mailwarden_scan_commit_batch_size_sum', { write: 'verdicts' })).toBe(7);
  });

  it('should let exactly one verdict write per message win when two processes commit overlapping batches at once', async () => {
    const account = await factories.newAccount();
    const writes = await pending(account.id, 12);
    // Two processes (the journal ingest's scans and a worker's, after the sweeper re-queued) with their own committer.
    const ingest = new VerdictCommitter(messages, {}, new Registry());
    const worker = new VerdictCommitter(messages, {}, new Registry());
    const outcomes = await Promise.all([...writes.map((write) => ingest.save(write)), ...[...writes].reverse().map((write) => worker.save(write)), ...writes.map((write) => ingest.save(write))]);

    expect(outcomes.filter((outcome) => !outcome.alreadyScanned)).toHaveLength(12);
    for (const write of writes) {
      expect(await db.prisma.verdict.count({ where: { messageId: write.message.id } })).toBe(2);
      expect(await db.prisma.outboxEvent.count({ where: { aggregateId: write.message.id } })).toBe(1);
    }
  });

  it('should count the attempts of concurrent scans in one statement, each its own count, none for a message no longer PENDING', async () => {
    const account = await factories.newAccount();
    const [a, b, done] = await pending(account.id, 3);
    await messages.saveVerdicts(done!.message, [...done!.verdicts]);
    expect(await messages.countScanAttempt(a!.message.id)).toEqual({ attempts: 1, lastError: null });
    await messages.recordScanError(b!.message.id, 'resolver timeout');

    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const counted = await messages.countScanAttemptMany([{ id: a!.message.id }, { id: b!.message.id }, { id: done!.message.id }, { id: a!.message.id }]).finally(() => observeStatements(null));

    expect(statements).toHaveLength(1);
    expect(counted).toEqual([
      { status: 'fulfilled', value: { attempts: 2, lastError: null } },
      { status: 'fulfilled', value: { attempts: 1, lastError: 'resolver timeout' } },
      { status: 'fulfilled', value: null },
      { status: 'fulfilled', value: { attempts: 3, lastError: null } },
    ]);
    expect(await db.prisma.messageScan.findUniqueOrThrow({ where: { messageId: a!.message.id } })).toMatchObject({ attempts: 3 });

    const committer = new VerdictCommitter(messages, {}, new Registry());
    expect(await Promise.all([committer.countAttempt(a!.message.id), committer.countAttempt(b!.message.id)])).toEqual([
      { attempts: 4, lastError: null },
      { attempts: 2, lastError: 'resolver timeout' },
    ]);
  });

  it('should count the first attempt of a copy stored with scanAttemptCounted in its store, and release it when no scan used it', async () => {
    const account = await factories.newAccount();
    const [counted, plain] = await messages.storeIncomingMany([{ ...copy(account.id, 'counted'), scanAttemptCounted: true }, copy(account.id, 'plain')]);
    const countedId = counted!.status === 'fulfilled' ? counted!.value.message.id : '';
    const plainId = plain!.status === 'fulfilled' ? plain!.value.message.id : '';
    // A crash right after the 250: the sweeper finds the copy with its attempt counted, as if the scan had started.
    expect(await db.prisma.messageScan.findUniqueOrThrow({ where: { messageId: countedId } })).toMatchObject({ attempts: 1 });
    expect(await db.prisma.messageScan.findUniqueOrThrow({ where: { messageId: plainId } })).toMatchObject({ attempts: 0 });

    // Handed to the queue unscanned: released, with a worker's count in the same batch; never below 0.
    const committer = new VerdictCommitter(messages, {}, new Registry());
    await Promise.all([committer.releaseAttempt(countedId), committer.releaseAttempt(plainId)]);
    expect(await db.prisma.messageScan.findUniqueOrThrow({ where: { messageId: countedId } })).toMatchObject({ attempts: 0 });
    expect(await db.prisma.messageScan.findUniqueOrThrow({ where: { messageId: plainId } })).toMatchObject({ attempts: 0 });
    expect(await messages.countScanAttemptMany([{ id: countedId }, { id: countedId, delta: -1 }, { id: countedId }])).toEqual([
      { status: 'fulfilled', value: { attempts: 1, lastError: null } },
      { status: 'fulfilled', value: { attempts: 0, lastError: null } },
      { status: 'fulfilled', value: { attempts: 1, lastError: null } },
    ]);
    // The verdict keeps the count on the message, as for any scan.
    expect(await messages.saveVerdicts({ id: countedId, accountId: account.id }, [verdict('bob@customer.example', 'DELIVER')])).toEqual({ alreadyScanned: false });
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: countedId } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 1 });
  });
});
