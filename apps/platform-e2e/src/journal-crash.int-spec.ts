import type { INestApplication } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { bullQueueSettings, JobQueue, QueueName, ScanMessageJob } from '@mailwarden/queue';
import {
  buildGoogleJournalCopy,
  buildOriginal,
  createTestDatabase,
  createTestRedis,
  freePort,
  OwnRedisCluster,
  redisServerAvailable,
  startAppProcess,
  TestFactories,
  type TestDatabase,
} from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the real scan worker recovers what the crash left
import { createScanner } from '../../scanner/src/scanner.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { ScanSweeperService } from '../../scanner/src/scan/scan-sweeper.service';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';

/** Where the queues live for one run of the crash tests: the apps' Redis settings, BullMQ's, and how to clean up. */
interface RedisBackend {
  env: Record<string, string>;
  queue: ReturnType<typeof bullQueueSettings>;
  cleanup(): Promise<void>;
}

async function oneServer(): Promise<RedisBackend> {
  const redis = await createTestRedis();
  return { env: { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }, queue: bullQueueSettings({ redisUrl: redis.url, prefix: redis.prefix }), cleanup: () => redis.cleanup() };
}

/** Issue 20: the same crashes with the queues on a real local three-master Redis Cluster (removed afterwards). */
async function threeMasterCluster(): Promise<RedisBackend> {
  const cluster = await OwnRedisCluster.start();
  const options = { redisUrl: cluster.url, prefix: 'mw-crash', clusterNodes: cluster.nodes };
  return { env: { REDIS_URL: cluster.url, REDIS_PREFIX: options.prefix, REDIS_CLUSTER_NODES: cluster.nodes }, queue: bullQueueSettings(options), cleanup: () => cluster.destroy() };
}

const backends: Array<[string, () => Promise<RedisBackend>]> = [['one Redis server', oneServer], ...(redisServerAvailable() ? [['a three-master Redis Cluster', threeMasterCluster] as [string, () => Promise<RedisBackend>]] : [])];

if (!redisServerAvailable()) {
  describe('journal path after crashes on a Redis Cluster', () => {
    it.skip('is skipped: redis-server / redis-cli are missing on this machine (apt-get install redis-server)', () => undefined);
  });
}

/**
 * Crashes (SIGKILL, no shutdown hooks) of the real processes: every message that got a 250 ends with exactly
 * one set of verdicts, and none got a 250 without being stored.
 */
describe.each(backends)('journal path after crashes, queues on %s', (_backendName, startRedis) => {
  let db: TestDatabase;
  let redis: RedisBackend;
  let account: Account;
  let env: Record<string, string>;
  let scanner: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedis();
    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'customer.example' });
    env = { DATABASE_URL: db.url, ...redis.env, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'warn', DNS_TIMEOUT_MS: '200' };
  }, 90_000);

  afterEach(async () => {
    await scanner?.close();
    scanner = undefined;
  });

  afterAll(async () => {
    await redis?.cleanup();
    await db?.drop();
  });

  async function startScannerInProcess(): Promise<INestApplication> {
    const app = await createScanner(
      loadConfig('scanner', { ...env, SCANNER_ROLE: 'worker', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }),
      false,
    );
    await app.init();
    return app;
  }

  async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('should lose nothing when the ingest is killed right after its 250s, sessions still open', async () => {
    const smtpPort = await freePort();
    const ingest = await startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(await freePort()) }, /smtp\.listening/);
    const journalAddress = `${account.journalToken}@${JOURNAL_DOMAIN}`;
    const accepted: string[] = [];
    const permanentFailures: string[] = [];
    let killed = false;

    // Four senders in parallel, each on its own reused connection; the process is killed after the 15th 250.
    const sender = async (worker: number) => {
      const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
      try {
        for (let index = 0; index < 20 && !killed; index++) {
          const messageId = `<crash-ingest-${worker}-${index}@partner.example>`;
          const raw = buildGoogleJournalCopy('bob@customer.example', buildOriginal({ from: 'alice@partner.example', to: ['bob@customer.example'], subject: `n${index}`, messageId }));
          try {
            const info = await transport.sendMail({ envelope: { from: 'journal@google.example', to: [journalAddress] }, raw });
            if (/^250 /.test(info.response)) accepted.push(messageId);
            if (accepted.length >= 15 && !killed) {
              killed = true;
              await ingest.kill9();
            }
          } catch (error) {
            // Refused (4xx) or cut by the crash: not accepted, so the sender keeps it and retries. Never a 5xx.
            const code = (error as { responseCode?: number }).responseCode;
            if (code !== undefined && code >= 500) permanentFailures.push(`${messageId}: ${code}`);
          }
        }
      } finally {
        transport.close();
      }
    };
    await Promise.all([0, 1, 2, 3].map(sender));
    await ingest.kill9();
    expect(accepted.length).toBeGreaterThanOrEqual(15);
    expect(permanentFailures).toEqual([]);

    // Every 250 rests on a committed row.
    const stored = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: { startsWith: '<crash-ingest-' } } });
    const storedIds = new Set(stored.map((message) => message.messageIdHeader));
    expect(accepted.filter((id) => !storedIds.has(id))).toEqual([]);

    // A new worker and the sweeper pick up whatever was stored but not (yet) enqueued or scanned.
    const recoveryStart = Date.now();
    scanner = await startScannerInProcess();
    await scanner.get(ScanSweeperService).sweep(0);
    await waitUntil(async () => (await db.prisma.message.count({ where: { id: { in: stored.map((m) => m.id) }, scanStatus: 'PENDING' } })) === 0, 30_000, 'every stored message to be scanned');
    for (const message of stored) {
      expect(await db.prisma.verdict.count({ where: { messageId: message.id } })).toBe(1);
    }
    // Figures for the fault report (issue 8): printed, not asserted.
    const lost = accepted.filter((id) => !storedIds.has(id)).length;
    console.log(`fault kill-9-ingest: sessions=4 accepted(250)=${accepted.length} stored=${stored.length} lost=${lost} recovery_ms=${Date.now() - recoveryStart}`);
  });

  it('should scan every message exactly once when a scan worker is killed mid-batch', async () => {
    const factories = new TestFactories(db.prisma);
    const total = 400;
    const ids: string[] = [];
    for (let index = 0; index < total; index++) {
      // Outbound mail: policy and content rules run, no DNS needed (the test controls no resolver here).
      const message = await factories.newMessage(account, { direction: 'OUTBOUND', envelopeFrom: 'bob@customer.example', envelopeTo: [`x${index}@partner.example`], messageIdHeader: `<crash-worker-${index}@customer.example>` });
      ids.push(message.id);
    }
    const queue = new JobQueue(QueueName.Scan, redis.queue);
    try {
      await queue.addBulk(ScanMessageJob, ids.map((messageId) => ({ messageId, accountId: account.id })));
      const worker = await startAppProcess('scanner', { ...env, SCANNER_ROLE: 'worker', SCAN_CONCURRENCY: '8', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }, /app\.listening/);
      await waitUntil(async () => (await db.prisma.message.count({ where: { id: { in: ids }, scanStatus: { not: 'PENDING' } } })) >= 20, 30_000, 'the first scans');
      await worker.kill9();
      const killedAt = Date.now();
      const doneBeforeKill = await db.prisma.message.count({ where: { id: { in: ids }, scanStatus: { not: 'PENDING' } } });
      expect(doneBeforeKill).toBeLessThan(total); // the kill really interrupted the batch

      // Jobs the dead worker held are stalled: BullMQ moves them back once their lock (15 s) expires.
      scanner = await startScannerInProcess();
      await waitUntil(async () => (await db.prisma.message.count({ where: { id: { in: ids }, scanStatus: 'PENDING' } })) === 0, 90_000, 'every message to be scanned');
      const counts = await db.prisma.verdict.groupBy({ by: ['messageId'], where: { messageId: { in: ids } }, _count: { _all: true } });
      expect(counts).toHaveLength(total);
      expect(counts.every((entry) => entry._count._all === 1)).toBe(true);
      console.log(`fault kill-9-scan-worker: messages=${total} scanned_before_kill=${doneBeforeKill} in_flight=${total - doneBeforeKill} lost=${total - counts.length} recovery_ms=${Date.now() - killedAt}`);
    } finally {
      await queue.close();
    }
  }, 150_000);
});
