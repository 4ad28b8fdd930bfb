import { Client } from 'pg';
import { MessageRepository, PostgresRawMessageStore, Prisma, RetentionRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { RetentionService } from './retention.service';

const DAY_MS = 86_400_000;

/**
 * The retention purge against the real, partitioned schema. Time is simulated: messages are placed on day partitions
 * ahead of today (the migration creates a week of them) and the purge runs "a month later", so the partitions it
 * drops and the rows it deletes are the ones it would drop and delete on that day.
 */
describe(RetentionService.name, () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let messages: MessageRepository;
  let service: RetentionService;
  let pg: Client;

  const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
  const day = (offset: number, hours = 12): Date => new Date(today.getTime() + offset * DAY_MS + hours * 3_600_000);
  const dayName = (offset: number): string => day(offset).toISOString().slice(0, 10).replace(/-/g, '');

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    const prisma = db.prisma as unknown as PrismaService;
    messages = new MessageRepository(prisma, new PostgresRawMessageStore());
    service = new RetentionService(new RetentionRepository(prisma), { EMERGENCY_INBOX_DAYS: 14, RETENTION_PURGE_BATCH: 500, RETENTION_PURGE_RATE: 200 });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    // The days the tests place data on (the scheduled job would have made them as the days came).
    await pg.query(`SELECT "mw_ensure_day_partition"(t, (now() AT TIME ZONE 'UTC')::date + d)
      FROM unnest(ARRAY['message', 'raw_message', 'verdict', 'recipient_event', 'outbox_event']) AS t, generate_series(1, 20) AS d`);
  });

  const rawIds = new Map<string, string>();

  /** A run "a month later" dropped today's partition (the legacy one): the tests go on writing at today's time. */
  async function restoreToday(): Promise<void> {
    await pg.query(`SELECT "mw_ensure_day_partition"(t, (now() AT TIME ZONE 'UTC')::date)
      FROM unnest(ARRAY['message', 'raw_message', 'verdict', 'recipient_event', 'outbox_event']) AS t`);
  }

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  /** Stores a scanned message (quarantined for every recipient) and moves everything it wrote to `at`. */
  async function storeAt(accountId: string, at: Date, dedupKey: string | null = null): Promise<string> {
    const { message } = await messages.storeIncoming({
      accountId,
      source: 'JOURNAL',
      direction: 'INBOUND',
      envelopeFrom: 'x@sender.example',
      envelopeTo: ['a@customer.example'],
      messageIdHeader: `<${dedupKey ?? Math.random()}@sender.example>`,
      dedupKey,
      raw: Buffer.from(`Subject: ${dedupKey}\r\n\r\nbody`),
    });
    await messages.saveVerdicts({ id: message.id, accountId }, [
      { recipient: 'a@customer.example', checks: [], failedCheck: 'dmarc', decidedAction: 'QUARANTINE', appliedAction: 'QUARANTINE', enforced: true, reasons: [] },
    ], 'SCANNED', { quarantineExpiresAt: new Date(at.getTime() + 30 * DAY_MS) });
    await placeAt(message.id, at);
    const { rows } = await pg.query('SELECT "raw_message_id" FROM "message" WHERE "id" = $1', [message.id]);
    rawIds.set(message.id, (rows[0] as { raw_message_id: string }).raw_message_id);
    return message.id;
  }

  /** Everything of one message as if written at `at` (rows move to that day's partitions). */
  async function placeAt(messageId: string, at: Date): Promise<void> {
    await pg.query('UPDATE "raw_message" SET "created_at" = $2 WHERE "id" = (SELECT "raw_message_id" FROM "message" WHERE "id" = $1)', [messageId, at]);
    await pg.query('UPDATE "message" SET "received_at" = $2 WHERE "id" = $1', [messageId, at]);
    await pg.query('UPDATE "message_dedup" SET "received_at" = $2 WHERE "message_id" = $1', [messageId, at]);
    await pg.query('UPDATE "verdict" SET "created_at" = $2 WHERE "message_id" = $1', [messageId, at]);
    await pg.query('UPDATE "recipient_event" SET "occurred_at" = $2 WHERE "message_id" = $1', [messageId, at]);
    await pg.query('UPDATE "outbox_event" SET "created_at" = $2 WHERE "aggregate_id" = $1', [messageId, at]);
    await pg.query('UPDATE "quarantine_item" SET "created_at" = $2, "expires_at" = $3 WHERE "message_id" = $1', [messageId, at, new Date(at.getTime() + 30 * DAY_MS)]);
  }

  /** What is left of one message: its row, bytes, dedup key, verdicts, events, quarantine items. */
  async function remains(messageId: string): Promise<Record<string, number>> {
    const { rows } = await pg.query(
      `SELECT (SELECT count(*)::int FROM "message" WHERE "id" = $1) AS "message",
        (SELECT count(*)::int FROM "raw_message" WHERE "id" = $2) AS "raw",
        (SELECT count(*)::int FROM "message_dedup" WHERE "message_id" = $1) AS "dedup",
        (SELECT count(*)::int FROM "verdict" WHERE "message_id" = $1) AS "verdicts",
        (SELECT count(*)::int FROM "recipient_event" WHERE "message_id" = $1) AS "events",
        (SELECT count(*)::int FROM "quarantine_item" WHERE "message_id" = $1) AS "quarantine"`,
      [messageId, rawIds.get(messageId)],
    );
    return rows[0] as Record<string, number>;
  }

  const partitions = async (table: string): Promise<string[]> =>
    (await pg.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [table])).rows.map((row: { relname: string }) => row.relname);

  it('should drop the days every window has passed, purge a shorter tenant by batches, expire quarantine with an audit entry, and leave the other tenant alone', async () => {
    const partner = await db.prisma.partner.create({ data: { name: 'P' } });
    const short = await factories.newAccount({ partnerId: partner.id });
    const long = await factories.newAccount({ partnerId: partner.id });
    await db.prisma.policy.create({ data: { kind: 'RETENTION', scope: 'ACCOUNT', accountId: short.id, scopeId: short.id, settings: { historyDays: 7, quarantineDays: 7, auditLogDays: 90 } } });

    const oldShort = await storeAt(short.id, day(2), 'old-short');
    const oldLong = await storeAt(long.id, day(2), 'old-long');
    const recentShort = await Promise.all([1, 2, 3].map((n) => storeAt(short.id, day(6), `recent-short-${n}`)));
    const recentLong = await storeAt(long.id, day(6), 'recent-long');

    const now = day(2 + 31); // day 2 is past everyone's 30 days; day 6 is 27 days old: the long tenant keeps it
    await db.prisma.auditEvent.createMany({
      data: [
        { accountId: short.id, actor: 't', action: 'old', objectType: 'x', objectId: '1', at: new Date(now.getTime() - 100 * DAY_MS) },
        { accountId: short.id, actor: 't', action: 'recent', objectType: 'x', objectId: '2', at: new Date(now.getTime() - 10 * DAY_MS) },
        { accountId: long.id, actor: 't', action: 'old', objectType: 'x', objectId: '3', at: new Date(now.getTime() - 100 * DAY_MS) },
        { accountId: long.id, actor: 't', action: 'ancient', objectType: 'x', objectId: '4', at: new Date(now.getTime() - 400 * DAY_MS) },
      ],
    });

    const report = await service.run(now, { batchSize: 2, maxBatches: 50, daysAhead: 3 });
    await restoreToday();

    // Expired: the short tenant's four items (7 days) and the long tenant's 31-day-old one; purged by batches: the
    // short tenant's four messages past its 14 days of bytes; the rest went with their day's partitions.
    expect(report).toMatchObject({ complete: true, messages: 4, rawMessages: 4, quarantineExpired: 5, auditEvents: 2 });
    // The day both tenants' windows passed is gone from every partitioned table, without a DELETE.
    for (const table of ['message', 'raw_message', 'verdict', 'recipient_event', 'outbox_event']) {
      const names = await partitions(table);
      expect(names).not.toContain(`${table}_p${dayName(2)}`);
      expect(names).not.toContain(`${table}_legacy`);
      expect(names).toContain(`${table}_p${dayName(6)}`);
      expect(names).toContain(`${table}_p${dayName(33)}`); // made ahead of the (simulated) day
      expect(report!.droppedPartitions).toContain(`${table}_p${dayName(2)}`);
    }
    // A partition made after the legacy one was dropped keeps the storage parameters of the partitions before it
    // (fillfactor for HOT verdict updates; the search GIN indexes' pending lists, migration 20261208100000).
    const { rows: storage } = await pg.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT c.relname, c.reloptions FROM pg_class c WHERE c.relname = $1 OR c.relname IN (SELECT x.indexrelid::regclass::text FROM pg_index x WHERE x.indrelid = $1::regclass)`,
      [`message_p${dayName(33)}`],
    );
    const options = new Map(storage.map((row) => [row.relname, row.reloptions]));
    expect(options.get(`message_p${dayName(33)}`)).toEqual(['fillfactor=60']);
    expect(options.get(`message_p${dayName(33)}_subject_idx`)).toEqual(['fastupdate=on', 'gin_pending_list_limit=1024']);
    expect(options.get(`message_p${dayName(33)}_envelope_to_idx`)).toEqual(['fastupdate=on', 'gin_pending_list_limit=1024']);
    expect(await remains(oldShort)).toMatchObject({ message: 0, dedup: 0, verdicts: 0, events: 0, quarantine: 0 });
    expect(await remains(oldLong)).toMatchObject({ message: 0, dedup: 0, verdicts: 0, events: 0, quarantine: 0 });
    // The short tenant's 27-day-old messages are past its 14 days of bytes: purged whole.
    for (const id of recentShort) {
      expect(await remains(id)).toEqual({ message: 0, raw: 0, dedup: 0, verdicts: 0, events: 0, quarantine: 0 });
    }
    // The long tenant's message of the same day keeps everything; its quarantine item is still held (30 days).
    expect(await remains(recentLong)).toEqual({ message: 1, raw: 1, dedup: 1, verdicts: 1, events: 2, quarantine: 1 });
    expect(await db.prisma.quarantineItem.findFirstOrThrow({ where: { messageId: recentLong } })).toMatchObject({ status: 'HELD' });
    // Its dedup key still holds: a second copy is the first one.
    const again = await messages.storeIncoming({ accountId: long.id, source: 'JOURNAL', direction: 'INBOUND', envelopeFrom: 'x@sender.example', envelopeTo: ['a@customer.example'], dedupKey: 'recent-long', raw: Buffer.from('x') });
    expect(again).toEqual({ message: { id: recentLong }, duplicate: true });

    // Every expired quarantine item of the short tenant was audited as expired before its message went.
    const expired = await db.prisma.auditEvent.findMany({ where: { accountId: short.id, action: 'quarantine.expired' } });
    expect(expired).toHaveLength(4);
    expect(expired.every((event) => event.actor === 'retention' && (event.after as { status: string }).status === 'DELETED')).toBe(true);
    // Audit logs: the short tenant keeps 90 days, the long one the default year.
    const audit = await db.prisma.auditEvent.findMany({ where: { action: { in: ['old', 'recent', 'ancient'] } }, select: { accountId: true, action: true } });
    expect(audit).toEqual(expect.arrayContaining([{ accountId: short.id, action: 'recent' }, { accountId: long.id, action: 'old' }]));
    expect(audit).toHaveLength(2);

    // A second run finds nothing more to do (but today's partition, made again for the tests, which it drops again).
    const second = await service.run(now, { batchSize: 2, maxBatches: 50, daysAhead: 3 });
    await restoreToday();
    expect(second).toMatchObject({ messages: 0, quarantineExpired: 0, auditEvents: 0 });
    expect(second!.droppedPartitions.every((name) => name.endsWith(`_p${dayName(0)}`))).toBe(true);
  });

  it('should lose nothing it must keep when a purge dies between batches, and finish on the next run', async () => {
    const short = await factories.newAccount();
    const long = await factories.newAccount();
    await db.prisma.policy.create({ data: { kind: 'RETENTION', scope: 'ACCOUNT', accountId: short.id, scopeId: short.id, settings: { historyDays: 3, quarantineDays: 3 } } });
    const expiring = await Promise.all(Array.from({ length: 9 }, (_, n) => storeAt(short.id, day(4), `crash-short-${n}`)));
    const keptShort = await storeAt(short.id, day(14), 'crash-short-kept');
    const keptLong = await Promise.all(Array.from({ length: 3 }, (_, n) => storeAt(long.id, day(4), `crash-long-${n}`)));
    const now = day(4 + 20); // 20 days: past the short tenant's 14 days of bytes, within the long tenant's 30

    // The purge's own connection is killed after its second message batch, as a crash would stop it.
    let batches = 0;
    const crash = service.run(now, {
      batchSize: 2,
      maxBatches: 50,
      daysAhead: 1,
      afterBatch: async (run) => {
        const [row] = await run<{ messages: number; pid: number }>(Prisma.sql`SELECT count(*)::int AS "messages", pg_backend_pid() AS "pid" FROM "message" WHERE "account_id" = ${short.id}::uuid`);
        if (row!.messages <= 10 - 4 && batches++ === 0) {
          await pg.query('SELECT pg_terminate_backend($1)', [row!.pid]);
        }
      },
    });
    await expect(crash).rejects.toThrow();
    await restoreToday();

    const left = await Promise.all(expiring.map(remains));
    // Whole messages or nothing: each one is either completely there or completely gone.
    for (const state of left) {
      expect([
        { message: 1, raw: 1, dedup: 1, verdicts: 1, events: 3, quarantine: 1 },
        { message: 0, raw: 0, dedup: 0, verdicts: 0, events: 0, quarantine: 0 },
      ]).toContainEqual(state);
    }
    expect(left.filter((state) => state.message === 0).length).toBeGreaterThanOrEqual(4);
    expect(left.filter((state) => state.message === 1).length).toBeGreaterThan(0);
    // Its quarantine item expired (3 days) before the crash; the message's bytes are within its 14 days.
    expect(await remains(keptShort)).toEqual({ message: 1, raw: 1, dedup: 1, verdicts: 1, events: 3, quarantine: 1 });
    for (const id of keptLong) {
      expect(await remains(id)).toEqual({ message: 1, raw: 1, dedup: 1, verdicts: 1, events: 2, quarantine: 1 });
    }

    await service.run(now, { batchSize: 2, maxBatches: 50, daysAhead: 1 });
    for (const id of expiring) {
      expect(await remains(id)).toMatchObject({ message: 0, verdicts: 0, dedup: 0 });
    }
    // Past its 3 days of history, within its 14 days of bytes: the message and bytes stay, verdicts and events go.
    expect(await remains(keptShort)).toEqual({ message: 1, raw: 1, dedup: 1, verdicts: 0, events: 0, quarantine: 1 });
    for (const id of keptLong) {
      expect(await remains(id)).toMatchObject({ message: 1, raw: 1, verdicts: 1, quarantine: 1 });
    }
  });

  it("should purge at the configured pace (RETENTION_PURGE_BATCH, RETENTION_PURGE_RATE) and still delete everything due", async () => {
    const short = await factories.newAccount();
    await factories.newAccount(); // a tenant on the default 30 days: the short one is purged by batches
    await db.prisma.policy.create({ data: { kind: 'RETENTION', scope: 'ACCOUNT', accountId: short.id, scopeId: short.id, settings: { historyDays: 3, quarantineDays: 3 } } });
    const expiring = await Promise.all(Array.from({ length: 9 }, (_, n) => storeAt(short.id, day(5), `paced-${n}`)));
    const kept = await storeAt(short.id, day(20), 'paced-kept');
    const paced = new RetentionService(new RetentionRepository(db.prisma as unknown as PrismaService), { EMERGENCY_INBOX_DAYS: 14, RETENTION_PURGE_BATCH: 2, RETENTION_PURGE_RATE: 20 });
    // After each batch: when it ended and how many of the short tenant's messages were left.
    const batches: Array<{ at: number; left: number }> = [];
    const report = await paced.run(day(5 + 20), {
      daysAhead: 1,
      afterBatch: async (run) => {
        const [row] = await run<{ left: number }>(Prisma.sql`SELECT count(*)::int AS "left" FROM "message" WHERE "account_id" = ${short.id}::uuid`);
        batches.push({ at: performance.now(), left: row!.left });
      },
    });
    await restoreToday();

    expect(report).toMatchObject({ complete: true, messages: 9, rawMessages: 9 });
    for (const id of expiring) {
      expect(await remains(id)).toEqual({ message: 0, raw: 0, dedup: 0, verdicts: 0, events: 0, quarantine: 0 });
    }
    expect(await remains(kept)).toMatchObject({ message: 1, raw: 1 });
    // Batches of 2 messages at 20 rows a second: a full batch starts 100 ms after the one before at the earliest,
    // so the four after the first end 400 ms later, less what the first took beyond the last (unpaced, the
    // five take a few ms each).
    const messageBatches = batches.filter((batch, index) => batch.left < (batches[index - 1]?.left ?? 10));
    expect(messageBatches.map((batch) => batch.left)).toEqual([8, 6, 4, 2, 1]);
    expect(messageBatches.at(-1)!.at - messageBatches[0]!.at).toBeGreaterThanOrEqual(350);
  });

  it('should not run twice at once: a second process waits for the next round', async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [0x6d77_7265]);
      expect(await service.run(day(1), { daysAhead: 1 })).toBeNull();
    } finally {
      await holder.end();
    }
  });
});
