import { createSocket, type Socket } from 'node:dgram';
import type { INestApplication } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { Registry } from 'prom-client';
import { loadConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { bullQueueSettings, JobQueue, QueueName } from '@mailwarden/queue';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { buildMicrosoftJournalReport, buildOriginal, createTestDatabase, createTestRedis, freePort, startAppProcess, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the real scan worker takes what the ingest queued
import { createScanner } from '../../scanner/src/scanner.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { ScanSweeperService } from '../../scanner/src/scan/scan-sweeper.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { createJournalIngest } from '../../journal-ingest/src/journal-ingest.app';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';
const EDGE = 'from mail.partner.example (203.0.113.7) by BN1NAM02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server; Wed, 25 Nov 2026 10:00:00 +0000';

/**
 * Issue 20: the journal ingest scans the copies it stored itself, after the commit and the 250, with the scan queue
 * as the fallback (INGEST_INLINE_SCAN). Real SMTP over 127.0.0.1, PostgreSQL and Redis; the DNS of the sender checks
 * is a zone the test can hold, so an in-process scan can be caught half-way (after the 250, before its verdict).
 */
describe('journal ingest scanning its own copies after the commit', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let account: Account;
  let journalAddress: string;
  let scanQueue: JobQueue;
  const apps: INestApplication[] = [];
  let env: Record<string, string>;

  const zone = new ZoneDnsResolver({ 'partner.example': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] } });
  /** While `held`, every lookup waits until the test lets it go (the in-process scan stops in its sender checks). */
  let held: { release: () => void; promise: Promise<void> } | null = null;
  const lookedUp: string[] = [];
  const dnsLookup: DnsLookup = async (name, rrtype) => {
    lookedUp.push(name);
    if (held) await held.promise;
    return { records: await zone.resolve(name, rrtype) };
  };
  function holdDns(): () => void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    held = { release, promise };
    return () => {
      held = null;
      release();
    };
  }

  async function startIngest(extra: Record<string, string> = {}): Promise<{ app: INestApplication; port: number }> {
    const port = await freePort();
    const app = await createJournalIngest(
      loadConfig('journal-ingest', { ...env, DNS_TIMEOUT_MS: '60000', ...extra, JOURNAL_SMTP_PORT: String(port), JOURNAL_HTTP_PORT: String(await freePort()) }),
      false,
      { dnsLookup },
    );
    await app.init();
    apps.push(app);
    return { app, port };
  }

  async function startScanWorker(): Promise<INestApplication> {
    const app = await createScanner(loadConfig('scanner', { ...env, SCANNER_ROLE: 'worker', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }), false, { dnsLookup });
    await app.init();
    apps.push(app);
    return app;
  }

  /** One copy over SMTP, from its own sender domain (no DNS answer cached for it); the 250 and the stored id. */
  async function send(port: number, tag: string): Promise<{ response: string; messageId: string; senderDomain: string }> {
    const senderDomain = `${tag}.partner.example`;
    const header = `<${tag}@partner.example>`;
    const original = buildOriginal({ from: `alice@${senderDomain}`, to: ['bob@customer.example'], subject: tag, messageId: header, received: [EDGE] });
    const report = buildMicrosoftJournalReport({ journalAddress, sender: `alice@${senderDomain}`, subject: tag, messageId: header, to: ['bob@customer.example'], original });
    const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ envelope: { from: 'journal@customer.onmicrosoft.com', to: [journalAddress] }, raw: report });
      const stored = await db.prisma.message.findFirstOrThrow({ where: { accountId: account.id, messageIdHeader: header } });
      return { response: info.response, messageId: stored.id, senderDomain };
    } finally {
      transport.close();
    }
  }

  async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const scanStatus = async (id: string) => (await db.prisma.message.findUniqueOrThrow({ where: { id } })).scanStatus;
  const verdicts = (id: string) => db.prisma.verdict.count({ where: { messageId: id } });
  const queued = async (id: string) => (await scanQueue.queue.getJob(id)) !== undefined;

  async function counter(app: INestApplication, name: string, labels: Record<string, string>): Promise<number> {
    const metric = app.get<Registry>(METRICS_REGISTRY).getSingleMetric(name);
    const values = metric ? (await metric.get()).values : [];
    return values.filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted)).reduce((sum, value) => sum + value.value, 0);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'customer.example', mode: 'JOURNAL' });
    journalAddress = `${account.journalToken}@${JOURNAL_DOMAIN}`;
    env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'warn' };
    scanQueue = new JobQueue(QueueName.Scan, bullQueueSettings({ redisUrl: redis.url, prefix: redis.prefix }));
  });

  afterEach(async () => {
    held?.release();
    held = null;
    for (const app of apps.splice(0).reverse()) {
      await app.close();
    }
  });

  afterAll(async () => {
    await scanQueue?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should give a copy accepted with 250 its verdict with no scanner worker running, and no scan job', async () => {
    const { app, port } = await startIngest({ INGEST_INLINE_SCAN: 'on' });
    const sent = await send(port, 'inline-1');
    expect(sent.response).toMatch(/^250 /);
    await waitUntil(async () => (await scanStatus(sent.messageId)) !== 'PENDING', 'the in-process verdict');
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 1, direction: 'INBOUND' });
    expect(await verdicts(sent.messageId)).toBe(1);
    expect(await db.prisma.messageScan.count({ where: { messageId: sent.messageId } })).toBe(0);
    expect(await queued(sent.messageId)).toBe(false);
    expect(await counter(app, 'mailwarden_scan_attempts_total', { where: 'inline' })).toBe(1);
    expect(await counter(app, 'mailwarden_inline_scan_handoffs_total', {})).toBe(0);
  });

  it('should answer 250 before the in-process scan ends: the scan waits on DNS while the copy is already acknowledged', async () => {
    const { port } = await startIngest();
    const release = holdDns();
    const sent = await send(port, 'inline-held');
    expect(sent.response).toMatch(/^250 /);
    await waitUntil(() => lookedUp.some((name) => name.endsWith(sent.senderDomain)), 'the in-process scan to reach its sender checks');
    expect(await scanStatus(sent.messageId)).toBe('PENDING');
    release();
    await waitUntil(async () => (await scanStatus(sent.messageId)) !== 'PENDING', 'the verdict');
    expect(await verdicts(sent.messageId)).toBe(1);
  });

  it('should, with inline scanning off, queue the copy for the scanner workers as before', async () => {
    const { app, port } = await startIngest({ INGEST_INLINE_SCAN: 'off' });
    const sent = await send(port, 'queued-1');
    expect(sent.response).toMatch(/^250 /);
    await waitUntil(() => queued(sent.messageId), 'the scan job');
    expect(await scanStatus(sent.messageId)).toBe('PENDING');
    expect(await counter(app, 'mailwarden_inline_scan_handoffs_total', { reason: 'off' })).toBe(1);
    const worker = await startScanWorker();
    await waitUntil(async () => (await scanStatus(sent.messageId)) !== 'PENDING', 'the worker verdict');
    expect(await verdicts(sent.messageId)).toBe(1);
    expect(await counter(worker, 'mailwarden_scan_attempts_total', { where: 'queue' })).toBe(1);
  });

  it('should send a copy to the queue when the in-process scanner is full, and scan each copy to exactly one verdict', async () => {
    const { app, port } = await startIngest({ INGEST_INLINE_SCAN_CONCURRENCY: '1', INGEST_INLINE_SCAN_BACKLOG: '0' });
    const release = holdDns();
    const first = await send(port, 'full-1');
    await waitUntil(() => lookedUp.some((name) => name.endsWith(first.senderDomain)), 'the first in-process scan to run');
    const second = await send(port, 'full-2');
    expect([first.response, second.response]).toEqual([expect.stringMatching(/^250 /), expect.stringMatching(/^250 /)]);
    await waitUntil(() => queued(second.messageId), 'the second copy on the scan queue');
    expect(await queued(first.messageId)).toBe(false);
    expect(await counter(app, 'mailwarden_inline_scan_handoffs_total', { reason: 'saturated' })).toBe(1);
    // Each copy was stored with its in-process attempt counted; the queued one's was never used: released.
    await waitUntil(async () => (await db.prisma.messageScan.findUnique({ where: { messageId: second.messageId } }))?.attempts === 0, 'the unused attempt released');
    expect(await db.prisma.messageScan.findUnique({ where: { messageId: first.messageId } })).toMatchObject({ attempts: 1 });
    release();
    await waitUntil(async () => (await scanStatus(first.messageId)) !== 'PENDING', 'the in-process verdict');
    expect(await scanStatus(second.messageId)).toBe('PENDING'); // no worker yet: only the queue has it
    await startScanWorker();
    await waitUntil(async () => (await scanStatus(second.messageId)) !== 'PENDING', 'the worker verdict');
    expect([await verdicts(first.messageId), await verdicts(second.messageId)]).toEqual([1, 1]);
    // One attempt each, whoever scanned it (MAX_SCAN_ATTEMPTS counts scans that started, nothing else).
    for (const id of [first.messageId, second.messageId]) {
      expect(await db.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 1 });
    }
  });

  it('should write one verdict when the sweeper queues a copy whose in-process scan is still running', async () => {
    const { app, port } = await startIngest();
    const release = holdDns();
    const sent = await send(port, 'race-1');
    await waitUntil(() => lookedUp.some((name) => name.endsWith(sent.senderDomain)), 'the in-process scan to run');
    // The worst case: the in-process scan outlives the sweeper's grace period, and a worker scans the copy as well.
    const worker = await startScanWorker();
    expect(await worker.get(ScanSweeperService).sweep(0)).toBe(1);
    await waitUntil(async () => (await db.prisma.messageScan.findUnique({ where: { messageId: sent.messageId } }))?.attempts === 2, "the worker's attempt to start");
    release(); // both scans now finish, in either order
    await waitUntil(async () => (await counter(app, 'mailwarden_scans_total', {})) === 1 && (await counter(worker, 'mailwarden_scans_total', {})) === 1, 'both scans to end');
    expect((await counter(app, 'mailwarden_scans_total', { outcome: 'scanned' })) + (await counter(worker, 'mailwarden_scans_total', { outcome: 'scanned' }))).toBe(1);
    expect(await verdicts(sent.messageId)).toBe(1);
    expect(await db.prisma.outboxEvent.count({ where: { aggregateId: sent.messageId } })).toBe(1);
  });

  it('should, on a graceful stop, finish the running scan and queue the copies still waiting', async () => {
    const { app, port } = await startIngest({ INGEST_INLINE_SCAN_CONCURRENCY: '1', INGEST_INLINE_SCAN_BACKLOG: '5' });
    const release = holdDns();
    const running = await send(port, 'stop-1');
    await waitUntil(() => lookedUp.some((name) => name.endsWith(running.senderDomain)), 'the in-process scan to run');
    const waiting = await send(port, 'stop-2');
    const closing = app.close();
    apps.splice(apps.indexOf(app), 1);
    await waitUntil(() => queued(waiting.messageId), 'the waiting copy on the scan queue');
    release();
    await closing;
    expect(await scanStatus(running.messageId)).toBe('SCANNED');
    expect(await scanStatus(waiting.messageId)).toBe('PENDING');
    await startScanWorker();
    await waitUntil(async () => (await scanStatus(waiting.messageId)) !== 'PENDING', 'the worker verdict');
    expect([await verdicts(running.messageId), await verdicts(waiting.messageId)]).toEqual([1, 1]);
  });

  it('should end with exactly one verdict, through the sweeper, when the ingest is killed after the 250 and before its scan ends', async () => {
    // A resolver that never answers: the ingest's own scan stops in its sender checks, the copy acknowledged.
    const blackHole: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => blackHole.bind(0, '127.0.0.1', resolve));
    const smtpPort = await freePort();
    const ingest = await startAppProcess(
      'journal-ingest',
      { ...env, DNS_SERVERS: `127.0.0.1:${blackHole.address().port}`, DNS_TIMEOUT_MS: '60000', JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(await freePort()) },
      /smtp\.listening/,
    );
    let sent!: Awaited<ReturnType<typeof send>>;
    try {
      sent = await send(smtpPort, 'crash-1');
      expect(sent.response).toMatch(/^250 /);
      // The in-process attempt was counted before the scan began: it is running, stuck on DNS.
      await waitUntil(async () => (await db.prisma.messageScan.findUnique({ where: { messageId: sent.messageId } }))?.attempts === 1, 'the in-process attempt');
    } finally {
      await ingest.kill9();
      blackHole.close();
    }
    expect(await scanStatus(sent.messageId)).toBe('PENDING');
    expect(await queued(sent.messageId)).toBe(false);
    const worker = await startScanWorker();
    expect(await worker.get(ScanSweeperService).sweep(0)).toBe(1);
    await waitUntil(async () => (await scanStatus(sent.messageId)) !== 'PENDING', 'the verdict after the crash');
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 2 });
    expect(await verdicts(sent.messageId)).toBe(1);
  }, 60_000);
});
