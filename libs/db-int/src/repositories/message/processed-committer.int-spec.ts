import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createTestDatabase, holdTableLock, TestFactories, type TestDatabase, untilWaitingOnLock } from '@mailwarden/testing';
import { DeliveryRepository, type IncomingMessage, observeStatements, PostgresRawMessageStore, ProcessedCommitter, type PrismaService, type ProcessedWrite } from '@mailwarden/db';

/**
 * Group commit of the gateway front (issue 20): messages stored already decided by concurrent sessions share one
 * statement; each is stored with its own state, verdicts and copies, a failure reaches only its own message, and
 * each session hears of its message only after the commit.
 */
describe('group commit of processed messages (ProcessedCommitter, DeliveryRepository.storeProcessedMany)', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let deliveries: DeliveryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    deliveries = new DeliveryRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
  });

  afterAll(async () => {
    await db?.drop();
  });

  const write = (accountId: string, subject: string, action: 'DELIVER' | 'QUARANTINE' = 'DELIVER', status: 'SCANNED' | 'SKIPPED' = 'SCANNED'): ProcessedWrite => {
    const input: IncomingMessage = {
      accountId,
      source: 'GATEWAY',
      direction: 'INBOUND',
      envelopeFrom: 'alice@partner.example',
      envelopeTo: ['bob@customer.example'],
      subject,
      messageIdHeader: `<${subject}@partner.example>`,
      raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`),
    };
    const verdict = { recipient: 'bob@customer.example', checks: [], failedCheck: action === 'DELIVER' ? null : 'dmarc', decidedAction: action, appliedAction: action, enforced: true, reasons: [], skippedReason: null };
    return { input, verdicts: [verdict], status, copies: [{ recipient: 'bob@customer.example', action, state: action === 'DELIVER' ? 'QUEUED' : 'QUARANTINED' }] };
  };

  it('should store several decided messages of two tenants in one statement, each with its own state, verdicts and copies', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const other = await factories.newAccount({ monitorOnly: false });
    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const outcomes = await deliveries
      .storeProcessedMany([write(account.id, 'held', 'QUARANTINE'), write(other.id, 'passed'), write(account.id, 'skipped', 'DELIVER', 'SKIPPED')])
      .finally(() => observeStatements(null));

    expect(statements).toHaveLength(1);
    const ids = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.id : ''));
    const rows = await db.prisma.message.findMany({ where: { id: { in: ids } }, include: { verdicts: true, quarantine: true } });
    const bySubject = new Map(rows.map((row) => [row.subject, row]));
    expect(bySubject.get('held')).toMatchObject({ accountId: account.id, scanStatus: 'SCANNED', deliveryState: 'QUARANTINED', quarantine: [expect.objectContaining({ accountId: account.id })] });
    expect(bySubject.get('passed')).toMatchObject({ accountId: other.id, scanStatus: 'SCANNED', deliveryState: 'QUEUED', quarantine: [] });
    expect(bySubject.get('skipped')).toMatchObject({ accountId: account.id, scanStatus: 'SKIPPED', deliveryState: 'QUEUED' });
    for (const row of rows) {
      expect(row.verdicts).toHaveLength(1);
      expect(await db.prisma.recipientDelivery.count({ where: { messageId: row.id } })).toBe(1);
      expect(await db.prisma.outboxEvent.findMany({ where: { aggregateId: row.id } })).toEqual([expect.objectContaining({ accountId: row.accountId })]);
    }
    expect(await db.prisma.messageScan.count({ where: { messageId: { in: ids } } })).toBe(0);
  });

  it('should store the others of a batch when one message cannot be stored, and fail only that one', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const outcomes = await deliveries.storeProcessedMany([write(account.id, 'good-1'), write(randomUUID(), 'tenant-gone'), write(account.id, 'good-2')]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const ids = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.id] : []));
    expect(await db.prisma.message.count({ where: { accountId: account.id } })).toBe(2);
    expect(await db.prisma.recipientDelivery.count({ where: { messageId: { in: ids } } })).toBe(2);
  });

  it('should commit the messages that arrive during a commit together, each session told only after its commit', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const committer = new ProcessedCommitter(deliveries, { commitMaxBatch: 64 }, new Registry());
    const store = (subject: string) => {
      const { input, verdicts, status, copies } = write(account.id, subject);
      return committer.storeProcessed(input, verdicts, status, copies).then(async (message) => ({ id: message.id, committed: (await db.prisma.message.count({ where: { id: message.id } })) === 1 }));
    };

    const { release } = await holdTableLock(db.url, 'recipient_delivery');
    const first = store('first');
    await untilWaitingOnLock(db.prisma);
    const later = ['a', 'b', 'c'].map((subject) => store(subject));
    expect(committer.waitingMessages).toBe(3);
    await release();
    const stored = await Promise.all([first, ...later]);

    expect(stored.every((message) => message.committed)).toBe(true);
    const xmin = await db.prisma.$queryRawUnsafe<Array<{ subject: string; tx: string }>>(`SELECT "subject", xmin::text AS "tx" FROM "message" WHERE "account_id" = $1::uuid`, account.id);
    const batches = new Map<string, string[]>();
    for (const row of xmin) {
      batches.set(row.tx, [...(batches.get(row.tx) ?? []), row.subject].sort());
    }
    expect([...batches.values()].map((subjects) => subjects.join('')).sort()).toEqual(['abc', 'first']);
  });
});
