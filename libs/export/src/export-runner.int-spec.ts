import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { ExportRepository, PostgresRawMessageStore, THIRD_PARTY_ALERT_TOPIC, type Account, type ExportDestination, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { EventRenderer } from './event-renderer';
import { ExportRunner, type ExportRunOptions } from './export-runner';
import { ExportSinkFactory } from './export-sinks';
import type { OcsfEvent } from './ocsf/ocsf-mappers';
import { ExportSinkError, type ExportSink } from './sinks/export-sink';

const OPTIONS: ExportRunOptions = { batchSize: 3, runBudgetMs: 10_000, leaseMs: 10_000, backoffBaseMs: 60_000, backoffMaxMs: 60_000 };

describe(ExportRunner.name, () => {
  let db: TestDatabase;
  let repository: ExportRepository;
  let account: Account;
  let root: string;
  let sinks: ExportSinkFactory;

  beforeAll(async () => {
    db = await createTestDatabase();
    repository = new ExportRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
    account = await new TestFactories(db.prisma).newAccount();
    root = await mkdtemp(path.join(tmpdir(), 'mw-runner-'));
    sinks = new ExportSinkFactory(Buffer.alloc(32, 3).toString('base64'), root);
  });

  afterAll(async () => {
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  /** A stored alert and its outbox row, committed together (as the Mimecast page commit does). */
  async function alertRow(alertType: string, writer: { query: (text: string, values: unknown[]) => Promise<unknown> } | null = null): Promise<string> {
    const dedup = `${alertType}-${Math.random()}`;
    const alert = await db.prisma.thirdPartyAlert.create({
      data: { accountId: account.id, source: 'MIMECAST', logType: 'url', alertType, mitreId: 'T1598.003', occurredAt: new Date(), sender: 'x@phish.example', recipient: 'bob@customer.example', raw: {}, dedupHash: dedup },
    });
    const insert = `INSERT INTO "outbox_event" ("topic", "aggregate_id", "account_id", "payload") VALUES ($1, $2, $3::uuid, $4::jsonb)`;
    const values = [THIRD_PARTY_ALERT_TOPIC, alert.id, account.id, JSON.stringify({ alertId: alert.id, accountId: account.id })];
    if (writer) {
      await writer.query(insert, values);
    } else {
      await db.prisma.$executeRawUnsafe(insert, ...values);
    }
    return alert.id;
  }

  async function destination(folder: string, filters: Partial<Pick<ExportDestination, 'classUids' | 'minSeverityId' | 'actionableOnly' | 'enabled'>> = {}): Promise<ExportDestination> {
    return repository.createDestination({ accountId: account.id, name: folder, kind: 'NDJSON', settings: { folder }, ...filters });
  }

  async function delivered(folder: string): Promise<OcsfEvent[]> {
    const dir = path.join(root, account.id, folder);
    const files = (await readdir(dir).catch(() => [])).sort();
    const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
    return texts.flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as OcsfEvent));
  }

  const findingUids = (events: OcsfEvent[]) => events.map((event) => (event.finding_info as { uid: string }).uid);

  /**
   * Runs until `done` holds. The outbox horizon is the cluster's oldest running transaction, so another database's
   * transaction on a shared server (parallel test files) may hold a run back for a moment; it never skips a row.
   */
  async function runUntil(export1: ExportRunner, id: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await done())) {
      if (Date.now() > deadline) {
        throw new Error('the export did not get there within 30 s');
      }
      await export1.run(id);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const runner = (sinkFor = sinks.sinkFor) => new ExportRunner(repository, new EventRenderer(repository, '0.1.0'), sinkFor, OPTIONS);

  it('should never pass a row whose transaction commits after a later one: the cursor waits below the oldest running transaction', async () => {
    const target = await destination('order');
    const early = new Client({ connectionString: db.url });
    await early.connect();
    try {
      await early.query('BEGIN');
      const late = await alertRow('written first, committed last', early); // this transaction has the older id
      const first = await alertRow('committed first');
      const export1 = runner();
      expect(await export1.run(target.id)).toMatchObject({ status: 'done', sent: 0 }); // the committed row waits too
      await early.query('COMMIT');
      await runUntil(export1, target.id, async () => (await delivered('order')).length >= 2);
      expect(findingUids(await delivered('order'))).toEqual([late, first]);
    } finally {
      await early.end();
    }
  });

  it('should let only one of two concurrent runs of a destination in one process take it', async () => {
    const target = await destination('concurrent');
    const ids = [await alertRow('a'), await alertRow('b'), await alertRow('c'), await alertRow('d')];
    // A slow receiver keeps the first run busy while the second asks for the destination.
    const slow = (row: ExportDestination): ExportSink => {
      const real = sinks.sinkFor(row);
      return { send: async (events) => new Promise((resolve) => setTimeout(resolve, 300)).then(() => real.send(events)), close: async () => undefined };
    };
    const shared = runner(slow);
    const first = shared.run(target.id);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = await Promise.all([first, shared.run(target.id)]);
    expect(results.map((result) => result.status).sort()).toEqual(['done', 'skipped']);
    await runUntil(shared, target.id, async () => (await delivered('concurrent')).length >= ids.length);
    expect(findingUids(await delivered('concurrent'))).toEqual(ids);
  });

  it('should keep its place and back off when the sink fails, then send the same events again', async () => {
    const target = await destination('flaky');
    const ids = [await alertRow('x'), await alertRow('y')];
    let failing = true;
    const flaky = (row: ExportDestination): ExportSink => {
      const real = sinks.sinkFor(row);
      return { send: async (events) => (failing ? Promise.reject(new ExportSinkError('receiver down', 503)) : real.send(events)), close: async () => undefined };
    };
    const export1 = runner(flaky);
    const failed = await export1.run(target.id);
    expect(failed).toMatchObject({ status: 'failed', error: 'receiver down' });
    const stored = (await repository.findDestination(target.id))!;
    expect(stored).toMatchObject({ cursorTxId: target.cursorTxId, cursorId: target.cursorId, consecutiveFailures: 1, lastError: 'receiver down', leaseOwner: null });
    expect(stored.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await export1.run(target.id)).toEqual({ status: 'skipped' }); // backing off
    await db.prisma.exportDestination.update({ where: { id: target.id }, data: { nextAttemptAt: null } });
    failing = false;
    await runUntil(export1, target.id, async () => (await delivered('flaky')).length >= 2);
    expect(findingUids(await delivered('flaky'))).toEqual(ids);
    expect(await repository.findDestination(target.id)).toMatchObject({ consecutiveFailures: 0, nextAttemptAt: null, eventsSent: 2n });
  });

  it('should apply class, severity and actionable filters and count what they left out', async () => {
    const onlyActivities = await destination('activities', { classUids: [4009] });
    const highOnly = await destination('high', { minSeverityId: 4 });
    await alertRow('p');
    await alertRow('q');
    const counters = async (id: string) => (await repository.findDestination(id))!;
    await runUntil(runner(), onlyActivities.id, async () => (await counters(onlyActivities.id)).eventsFiltered === 2n);
    await runUntil(runner(), highOnly.id, async () => (await counters(highOnly.id)).eventsFiltered === 2n); // url alerts are Medium
    expect(await counters(onlyActivities.id)).toMatchObject({ eventsSent: 0n, batchesSent: 0n });
    expect(await counters(highOnly.id)).toMatchObject({ eventsSent: 0n });
    const actionable = await destination('actionable', { actionableOnly: true });
    const later = await alertRow('r');
    await runUntil(runner(), actionable.id, async () => (await delivered('actionable')).length >= 1);
    expect(findingUids(await delivered('actionable'))).toEqual([later]);
  });

  it('should prune only the rows every destination has passed, a disabled one holding its place', async () => {
    await db.prisma.exportDestination.deleteMany({});
    const behind = await destination('behind', { enabled: false });
    const ahead = await destination('ahead');
    await alertRow('kept until behind passes');
    await runUntil(runner(), ahead.id, async () => (await delivered('ahead')).length >= 1);
    const count = () => db.prisma.outboxEvent.count({ where: { topic: THIRD_PARTY_ALERT_TOPIC, createdAt: { gt: behind.createdAt } } });
    expect(await count()).toBe(1);
    await repository.prune();
    expect(await count()).toBe(1);
    await db.prisma.exportDestination.update({ where: { id: behind.id }, data: { enabled: true } });
    await runUntil(runner(), behind.id, async () => (await delivered('behind')).length >= 1);
    await repository.prune();
    expect(await count()).toBe(0);
  });
});
