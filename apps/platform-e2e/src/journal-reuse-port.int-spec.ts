import type { Account } from '@mailwarden/db';
import {
  buildGoogleJournalCopy,
  buildOriginal,
  createTestDatabase,
  createTestRedis,
  freePort,
  MetricsSnapshot,
  sendFromParallelConnections,
  startAppProcess,
  TestFactories,
  type AppProcess,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';

/**
 * Issue 20: several journal-ingest processes on one host share the SMTP port (SMTP_REUSE_PORT, SO_REUSEPORT), each
 * with its own HTTP port for /health and /metrics. The real compiled processes, as an operator would run them.
 */
describe('journal ingest processes sharing one SMTP port (SMTP_REUSE_PORT)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let account: Account;
  let env: Record<string, string>;
  const running: AppProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'customer.example' });
    env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, DNS_TIMEOUT_MS: '200' };
  }, 90_000);

  afterEach(async () => {
    await Promise.all(running.map((app) => app.stop()));
    running.length = 0;
  });

  afterAll(async () => {
    await redis?.cleanup();
    await db?.drop();
  });

  async function startIngest(smtpPort: number, reusePort: boolean): Promise<{ app: AppProcess; metricsUrl: string }> {
    const httpPort = await freePort();
    const app = await startAppProcess(
      'journal-ingest',
      { ...env, SMTP_REUSE_PORT: String(reusePort), JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(httpPort) },
      /app\.listening/,
    );
    running.push(app);
    return { app, metricsUrl: `http://127.0.0.1:${httpPort}/metrics` };
  }

  /** `connections` senders at once, each on its own connection sending `perConnection` copies; the final replies by Message-ID. */
  function send(smtpPort: number, tag: string, connections: number, perConnection: number): Promise<Map<string, string>> {
    return sendFromParallelConnections(smtpPort, connections, perConnection, (connection, index) => {
      const messageId = `<${tag}-${connection}-${index}@partner.example>`;
      const raw = buildGoogleJournalCopy('bob@customer.example', buildOriginal({ from: 'alice@partner.example', to: ['bob@customer.example'], subject: tag, messageId }));
      return { messageId, envelope: { from: 'journal@google.example', to: [`${account.journalToken}@${JOURNAL_DOMAIN}`] }, raw };
    });
  }

  async function storedBy(metricsUrl: string): Promise<number> {
    return MetricsSnapshot.parse(await (await fetch(metricsUrl)).text()).value('mailwarden_messages_stored_total', { outcome: 'stored' });
  }

  async function storedRows(tag: string): Promise<string[]> {
    const rows = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: { startsWith: `<${tag}-` } }, select: { messageIdHeader: true } });
    return rows.map((row) => row.messageIdHeader!);
  }

  it('should spread connections over two processes on one port and store every copy exactly once', async () => {
    const smtpPort = await freePort();
    const [first, second] = await Promise.all([startIngest(smtpPort, true), startIngest(smtpPort, true)]);
    // 16 connections: the kernel hashes each to one listener, so a one-sided split has odds of 2 in 65,536.
    const replies = await send(smtpPort, 'shared', 16, 5);
    expect([...replies.values()].filter((reply) => !/^250 /.test(reply))).toEqual([]);
    const rows = await storedRows('shared');
    expect(rows).toHaveLength(80);
    expect(new Set(rows)).toEqual(new Set(replies.keys()));
    // Each process counts only what it stored: both took some, and together exactly what was sent.
    const counts = [await storedBy(first.metricsUrl), await storedBy(second.metricsUrl)];
    expect(counts[0]! + counts[1]!).toBe(80);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  }, 120_000);

  it('should refuse to start a second process on a used port without the setting, saying which port', async () => {
    const smtpPort = await freePort();
    await startIngest(smtpPort, false);
    await expect(startIngest(smtpPort, false)).rejects.toThrow(`SMTP port 127.0.0.1:${smtpPort} is already in use`);
    // The first keeps serving.
    const replies = await send(smtpPort, 'alone', 1, 1);
    expect([...replies.values()]).toEqual([expect.stringMatching(/^250 /)]);
  }, 120_000);

  it('should serve new connections through the other process once one has shut down (SIGTERM, graceful drain)', async () => {
    const smtpPort = await freePort();
    const [first, second] = await Promise.all([startIngest(smtpPort, true), startIngest(smtpPort, true)]);
    await first.app.stop();
    const replies = await send(smtpPort, 'after-stop', 16, 2);
    expect([...replies.values()].filter((reply) => !/^250 /.test(reply))).toEqual([]);
    expect(await storedRows('after-stop')).toHaveLength(32);
    expect(await storedBy(second.metricsUrl)).toBe(32);
  }, 120_000);
});
