import { Queue } from 'bullmq';
import { createTransport, type Transporter } from 'nodemailer';
import { createPrismaClient, MessageRepository, PostgresRawMessageStore, type Account, type PrismaClient, type PrismaService } from '@mailwarden/db';
import { bullQueueSettings, JobQueues, QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import {
  buildGoogleJournalCopy,
  buildOriginal,
  createTestDatabase,
  createTestRedis,
  freePort,
  getHealth,
  OwnPostgres,
  OwnRedis,
  startAppProcess,
  TestFactories,
  uniqueName,
  type AppProcess,
} from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the scanner's own outbox relay recovers what the restart left
import { ScanSweeperService } from '../../apps/scanner/src/scan/scan-sweeper.service';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';
const CUSTOMER_DOMAIN = 'customer.example';
const MESSAGES = 300;
const SENDERS = 6;
/** The fault is injected once this many copies were acknowledged, so it lands in the middle of the load. */
const FAULT_AFTER_ACCEPTED = 60;
const DOWN_MS = 2000;
/** A sender whose copy was refused or cut waits this long before offering it again (an MTA's retry, shortened). */
const RETRY_DELAY_MS = 250;
const LOAD_DEADLINE_MS = 60_000;
/** How long the Redis test lets the apps recover on their own before it runs the sweep the scanner would run later. */
const NATURAL_RECOVERY_MS = 10_000;

interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

interface RunningApps {
  smtpPort: number;
  healthUrls: string[];
  processes: AppProcess[];
}

interface LoadResult {
  /** Message-ID → the stored ids named by its 250 replies ("Stored as <id>"); a retried copy may be acknowledged twice. */
  acknowledged: Map<string, Set<string>>;
  attempts: number;
  /** SMTP codes of every refused attempt; null for a connection that was cut or refused without a reply. */
  refusals: Array<number | null>;
  /** When each 250 arrived (ms since the epoch). */
  acknowledgedAt: number[];
  inFlightAtFault: number;
  faultStartedAt: number;
  faultEndedAt: number;
}

/** Cleanups registered by the running test, run in reverse order by afterEach even when the test failed. */
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups
      .pop()!()
      .catch((error: Error) => console.error(`cleanup failed: ${error.message}`));
  }
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds or `timeoutMs` passed; returns whether it held. */
async function poll(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) return false;
    await delay(200);
  }
  return true;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  if (!(await poll(check, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/** journal-ingest and one scanner in the worker role, as processes, on the given PostgreSQL and Redis. */
async function startApps(infra: Infrastructure): Promise<RunningApps> {
  const env = {
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: infra.redisPrefix,
    HOST: '127.0.0.1',
    JOURNAL_DOMAIN,
    // Outbound copies need no DNS; should a check ask anyway, it fails fast against a port nobody serves.
    DNS_TIMEOUT_MS: '200',
    DNS_SERVERS: `127.0.0.1:${await freePort()}`,
  };
  const [smtpPort, ingestHttp, scannerHttp, scannerJournalHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const processes: AppProcess[] = [];
  cleanups.push(() => Promise.all(processes.map((app) => app.kill9())));
  processes.push(await startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(ingestHttp) }, /app\.listening/));
  processes.push(
    await startAppProcess(
      'scanner',
      { ...env, SCANNER_ROLE: 'worker', SCAN_CONCURRENCY: '8', SCANNER_HTTP_PORT: String(scannerHttp), JOURNAL_HTTP_PORT: String(scannerJournalHttp) },
      /app\.listening/,
    ),
  );
  return { smtpPort, processes, healthUrls: [`http://127.0.0.1:${ingestHttp}`, `http://127.0.0.1:${scannerHttp}`] };
}

/** A monitor-only account with a verified JOURNAL domain; returns its journal address. */
async function newJournalAccount(prisma: PrismaClient): Promise<{ account: Account; journalAddress: string }> {
  const factories = new TestFactories(prisma);
  const account = await factories.newAccount({ monitorOnly: true });
  await factories.newDomain(account, { name: CUSTOMER_DOMAIN, mode: 'JOURNAL' });
  return { account, journalAddress: `${account.journalToken}@${JOURNAL_DOMAIN}` };
}

function journalCopy(messageId: string, index: number): Buffer {
  // Outbound (the sender is the customer's): the scan runs policy and content rules without DNS.
  const original = buildOriginal({ from: `bob@${CUSTOMER_DOMAIN}`, to: [`x${index}@partner.example`], subject: `load ${index}`, messageId });
  return buildGoogleJournalCopy(`x${index}@partner.example`, original);
}

/**
 * SENDERS concurrent SMTP clients deliver MESSAGES journal copies; a copy that gets anything but a 250 (a 4xx, a
 * 5xx or a cut connection) is offered again after RETRY_DELAY_MS, as an MTA would, until each one got its 250 or
 * the deadline passed. `fault` starts once FAULT_AFTER_ACCEPTED copies were acknowledged and runs beside the load.
 */
async function runJournalLoad(smtpPort: number, journalAddress: string, tag: string, fault: () => Promise<void>): Promise<LoadResult> {
  const queue = Array.from({ length: MESSAGES }, (_, index) => index);
  const result: LoadResult = { acknowledged: new Map(), attempts: 0, refusals: [], acknowledgedAt: [], inFlightAtFault: 0, faultStartedAt: 0, faultEndedAt: 0 };
  const deadline = Date.now() + LOAD_DEADLINE_MS;
  let inFlight = 0;
  let faultDone: Promise<void> | undefined;
  let faultError: unknown;

  const attempt = async (transport: Transporter, index: number): Promise<void> => {
    const messageId = `<${tag}-${index}@${CUSTOMER_DOMAIN}>`;
    inFlight++;
    result.attempts++;
    let refused = false;
    try {
      const info = await transport.sendMail({ envelope: { from: 'journal@google.example', to: [journalAddress] }, raw: journalCopy(messageId, index) });
      const ids = result.acknowledged.get(messageId) ?? new Set<string>();
      const reply = String(info.response);
      ids.add(/Stored as (\S+)/.exec(reply)?.[1] ?? `unparsed reply: ${reply}`);
      result.acknowledged.set(messageId, ids);
      result.acknowledgedAt.push(Date.now());
    } catch (error) {
      result.refusals.push((error as { responseCode?: number }).responseCode ?? null);
      setTimeout(() => queue.push(index), RETRY_DELAY_MS);
      refused = true;
    } finally {
      inFlight--;
    }
    if (refused) {
      // The sender also backs off before its next copy, as an MTA defers a destination that just failed.
      await delay(RETRY_DELAY_MS);
    }
    if (!faultDone && result.acknowledged.size >= FAULT_AFTER_ACCEPTED) {
      result.inFlightAtFault = inFlight;
      result.faultStartedAt = Date.now();
      faultDone = fault().then(
        () => void (result.faultEndedAt = Date.now()),
        (error: unknown) => void (faultError = error),
      );
    }
  };

  const sender = async (): Promise<void> => {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, socketTimeout: 20_000 });
    try {
      while (result.acknowledged.size < MESSAGES && Date.now() < deadline) {
        const index = queue.shift();
        await (index === undefined ? delay(50) : attempt(transport, index));
      }
    } finally {
      transport.close();
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  await faultDone;
  if (faultError) throw faultError;
  return result;
}

function pendingCount(prisma: PrismaClient, account: Account): Promise<number> {
  return prisma.message.count({ where: { accountId: account.id, scanStatus: 'PENDING' } });
}

/** The scan job of each message still PENDING, for the failure message of a test that timed out. */
async function describePending(prisma: PrismaClient, account: Account, queue: Queue): Promise<string> {
  const pending = await prisma.message.findMany({ where: { accountId: account.id, scanStatus: 'PENDING' }, select: { id: true }, take: 10 });
  const jobs = await Promise.all(
    pending.map(async ({ id }) => {
      const job = await queue.getJob(id);
      return job ? `${id}: job ${await job.getState()} after ${job.attemptsMade} attempt(s) ${job.failedReason ?? ''}` : `${id}: no job`;
    }),
  );
  return jobs.join('\n');
}

/** Waits until no stored message of the account is PENDING; returns when the last verdict was committed. */
async function waitForScans(prisma: PrismaClient, account: Account, timeoutMs: number, queue: Queue): Promise<Date> {
  if (!(await poll(async () => (await pendingCount(prisma, account)) === 0, timeoutMs))) {
    throw new Error(`messages still PENDING after ${timeoutMs} ms:\n${await describePending(prisma, account, queue)}`);
  }
  const last = await prisma.verdict.aggregate({ where: { message: { accountId: account.id } }, _max: { createdAt: true } });
  return last._max.createdAt!;
}

interface Outcome {
  /** Acknowledged copies without their stored row (the one the 250 named), or not scanned, or without a verdict per recipient. */
  lost: string[];
  storedCount: number;
}

async function collectOutcome(prisma: PrismaClient, account: Account, load: LoadResult): Promise<Outcome> {
  const stored = await prisma.message.findMany({ where: { accountId: account.id }, include: { verdicts: true } });
  const byMessageId = new Map(stored.map((message) => [message.messageIdHeader!, message]));
  const lost = [...load.acknowledged].filter(([messageId, ids]) => {
    const message = byMessageId.get(messageId);
    const verdictsComplete = message?.verdicts.map((verdict) => verdict.recipient).sort().join() === message?.envelopeTo.slice().sort().join();
    return !message || !ids.has(message.id) || ids.size !== 1 || message.scanStatus === 'PENDING' || !verdictsComplete;
  });
  return { lost: lost.map(([messageId]) => messageId), storedCount: stored.length };
}

/**
 * Every copy got a 250 naming its stored row; every stored row was acknowledged; each was scanned once (one
 * verdict per recipient); every refusal was a 4xx or a cut connection, never a 5xx; the apps still run and their
 * /health answers 200.
 */
async function expectNothingLost(outcome: Outcome, load: LoadResult, apps: RunningApps): Promise<void> {
  expect(outcome.lost).toEqual([]);
  expect(load.acknowledged.size).toBe(MESSAGES);
  expect(outcome.storedCount).toBe(MESSAGES); // one row per copy, none stored without its 250
  expect(load.refusals.filter((code) => code !== null && (code < 400 || code >= 500))).toEqual([]);
  for (const app of apps.processes) {
    expect({ exitCode: app.child.exitCode, signal: app.child.signalCode }).toEqual({ exitCode: null, signal: null });
  }
  for (const url of apps.healthUrls) {
    await waitUntil(async () => (await getHealth(url)).status === 200, 15_000, `${url}/health to answer 200`);
  }
}

/** How many copies got their 250 between the start of the fault and the store being back. */
function acknowledgedDuringFault(load: LoadResult): number {
  return load.acknowledgedAt.filter((at) => at >= load.faultStartedAt && at <= load.faultEndedAt).length;
}

/** One line of figures per fault, printed before the assertions so that a failing run shows them too. */
function report(fault: string, load: LoadResult, outcome: Outcome, lastVerdictAt: Date, extra = ''): void {
  const fourXx = load.refusals.filter((code) => code !== null && code >= 400 && code < 500).length;
  const fiveXx = load.refusals.filter((code) => code !== null && code >= 500).length;
  const cut = load.refusals.filter((code) => code === null).length;
  console.log(
    `fault=${fault} messages=${MESSAGES} senders=${SENDERS} attempts=${load.attempts} inFlightAtFault=${load.inFlightAtFault} ` +
      `accepted250=${load.acknowledged.size} accepted250DuringFault=${acknowledgedDuringFault(load)} stored=${outcome.storedCount} lost=${outcome.lost.length} replies4xx=${fourXx} replies5xx=${fiveXx} cutConnections=${cut} ` +
      `recoveryMs=${lastVerdictAt.getTime() - load.faultStartedAt}${extra}`,
  );
}

/**
 * Issue 8's restart faults (the kill -9 faults are in apps/platform-e2e/src/journal-crash.int-spec.ts): the real
 * journal-ingest and scan worker processes under a journal load while their PostgreSQL or their Redis restarts.
 * Both stores are the test's own (OwnPostgres, OwnRedis), never the machine's shared ones.
 */
describe('journal path across restarts of its stores (fault tests)', () => {
  it('should lose nothing and answer only 250 or 4xx when PostgreSQL restarts (immediate) during a load', async () => {
    const startedAt = Date.now();
    const postgres = await OwnPostgres.start();
    cleanups.push(() => postgres.destroy());
    const databaseUrl = await postgres.createMigratedDatabase('mailwarden');
    const clusterReadyMs = Date.now() - startedAt; // initdb, start, CREATE DATABASE and migrations
    const prisma = createPrismaClient({ databaseUrl, poolSize: 4 });
    cleanups.push(() => prisma.$disconnect());
    const redis = await createTestRedis();
    cleanups.push(() => redis.cleanup());
    const { account, journalAddress } = await newJournalAccount(prisma);
    const apps = await startApps({ databaseUrl, redisUrl: redis.url, redisPrefix: redis.prefix });

    const load = await runJournalLoad(apps.smtpPort, journalAddress, 'pg-restart', () => postgres.restart({ mode: 'immediate', downMs: DOWN_MS }));
    expect(load.refusals.length).toBeGreaterThan(0); // the restart hit the load: some copies were refused and retried
    const queue = new Queue(QueueName.Scan, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    cleanups.push(() => queue.close());
    const lastVerdictAt = await waitForScans(prisma, account, 40_000, queue);
    const outcome = await collectOutcome(prisma, account, load);
    report('postgres-restart-immediate', load, outcome, lastVerdictAt, ` initdbMs=${postgres.initMs} ownClusterReadyMs=${clusterReadyMs}`);
    await expectNothingLost(outcome, load, apps);
  }, 150_000);

  it('should lose nothing and answer only 250 or 4xx when Redis (AOF, fsync always) restarts during a load', async () => {
    const redis = await OwnRedis.start();
    cleanups.push(() => redis.destroy());
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const prefix = uniqueName('mw-fault');
    const { account, journalAddress } = await newJournalAccount(db.prisma);
    const apps = await startApps({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: prefix });

    const load = await runJournalLoad(apps.smtpPort, journalAddress, 'redis-restart', () => redis.restart({ downMs: DOWN_MS }));
    // The restart hit the load: the ingest kept answering 250 (after its commit) while Redis was away.
    expect(acknowledgedDuringFault(load)).toBeGreaterThan(0);
    // The ingest's enqueues wait for Redis and go through once it reconnects. Whatever is still PENDING with no job
    // NATURAL_RECOVERY_MS later lost its enqueue: the scanner's sweeper would enqueue it (every 15 s, 30 s grace, no
    // setting), so one sweep is run then instead. A job fetched at the instant of the restart stays active until
    // BullMQ's stalled check (lock 30 s, checked every 30 s) hands it to the worker again: hence the long wait.
    await poll(async () => (await pendingCount(db.prisma, account)) === 0, NATURAL_RECOVERY_MS);
    const pendingAfterWindow = await pendingCount(db.prisma, account);
    const queue = new Queue(QueueName.Scan, { connection: redisOptionsFromUrl(redis.url) as never, prefix });
    cleanups.push(() => queue.close());
    const jobs = new JobQueues(bullQueueSettings({ redisUrl: redis.url, prefix }));
    cleanups.push(() => jobs.close());
    const sweeper = new ScanSweeperService(new MessageRepository(db.prisma as PrismaService, new PostgresRawMessageStore()), jobs);
    const swept = await sweeper.sweep(0);
    const lastVerdictAt = await waitForScans(db.prisma, account, 80_000, queue);
    const outcome = await collectOutcome(db.prisma, account, load);
    report('redis-restart-aof', load, outcome, lastVerdictAt, ` pendingAfter${NATURAL_RECOVERY_MS}ms=${pendingAfterWindow} sweptThen=${swept}`);
    await expectNothingLost(outcome, load, apps);
  }, 150_000);
});
