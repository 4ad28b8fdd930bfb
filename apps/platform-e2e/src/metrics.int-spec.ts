import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { MimecastPollerService } from '@mailwarden/mimecast';
import { QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { DnsError, ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import {
  buildMicrosoftJournalReport,
  buildOriginal,
  buildRawMessage,
  createTestDatabase,
  createTestRedis,
  freePort,
  listenOnFreePort,
  RawSmtp,
  scrapeMetrics,
  SmtpSink,
  TestFactories,
  type MetricsSnapshot,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the journal path is whole only with the ingest running beside the scanner
import { createJournalIngest } from '../../journal-ingest/src/journal-ingest.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the admin API's request metrics, read over HTTP like the others
import { createAdminApi } from '../../admin-api/src/admin-api.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the scanner under test
import { createScanner } from '../../scanner/src/scanner.app';

const JOURNAL_DOMAIN = 'journal.metrics.test';
const EDGE = (ip: string) => `from mail.partner.example (${ip}) by BN1NAM02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server; Wed, 25 Nov 2026 10:00:00 +0000`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Real traffic into the three apps (SMTP over 127.0.0.1, HTTP requests), and /metrics read over HTTP before and
 * after: every counter must have moved by exactly what was sent, no more (a twin count) and no less.
 */
describe('metrics (SMTP and HTTP traffic, /metrics over HTTP)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let ingest: INestApplication;
  let scanner: INestApplication;
  let admin: INestApplication;
  const urls = { ingest: '', scanner: '', admin: '' };
  const ports = { journal: 0, gateway: 0 };
  let watched: Account;
  let journalAddress: string;
  const sink = new SmtpSink();

  const zone = new ZoneDnsResolver({
    'partner.example': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    '_dmarc.partner.example': { TXT: ['v=DMARC1; p=none'] },
    'bank.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject'] },
    'flaky.example': { TXT: { error: 'ESERVFAIL' } },
    '_dmarc.flaky.example': { TXT: { error: 'ESERVFAIL' } },
  });
  /** Every upstream query the resolvers sent, and how many failed with SERVFAIL. */
  const upstream = { queries: 0, servfail: 0 };
  const dnsLookup: DnsLookup = async (name, rrtype) => {
    upstream.queries++;
    try {
      return { records: await zone.resolve(name, rrtype) };
    } catch (error) {
      if ((error as DnsError).code === 'ESERVFAIL') {
        upstream.servfail++;
      }
      throw error;
    }
  };

  /** A fresh scrape: the Redis- and PostgreSQL-backed gauges reuse a refresh for 250 ms. */
  const scrape = async (url: string) => {
    await pause(300);
    return scrapeMetrics(url);
  };

  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const value = await probe();
      if (value) {
        return value;
      }
      await pause(50);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const scannedCount = (accountId: string) => db.prisma.message.count({ where: { accountId, scanStatus: { not: 'PENDING' } } });

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    await sink.start();
    const factories = new TestFactories(db.prisma);
    watched = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(watched, { name: 'customer.example', mode: 'JOURNAL' });
    journalAddress = `${watched.journalToken}@${JOURNAL_DOMAIN}`;
    const enforced = await factories.newAccount({ monitorOnly: false });
    const acme = await factories.newDomain(enforced, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    await db.prisma.domain.update({ where: { id: acme.id }, data: { downstreamVerifyCert: false } });

    ports.journal = await freePort();
    ports.gateway = await freePort();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'fatal', SMTP_HOSTNAME: 'mx.metrics.test' };
    // The scanner's scan figures are under test: the ingest queues every copy for it (its own scans: journal-inline-scan.int-spec.ts).
    ingest = await createJournalIngest(loadConfig('journal-ingest', { ...env, INGEST_INLINE_SCAN: 'off', JOURNAL_SMTP_PORT: String(ports.journal) }), false);
    urls.ingest = await listenOnFreePort(ingest);
    scanner = await createScanner(
      loadConfig('scanner', { ...env, SCANNER_ROLE: 'all', SCANNER_SMTP_PORT: String(ports.gateway), SECRETS_KEY: randomBytes(32).toString('base64') }),
      false,
      { dnsLookup },
    );
    urls.scanner = await listenOnFreePort(scanner);
    admin = await createAdminApi(loadConfig('admin-api', { ...env }), false);
    urls.admin = await listenOnFreePort(admin);
  });

  afterAll(async () => {
    await admin?.close();
    await scanner?.close();
    await ingest?.close();
    await sink.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should count journal SMTP replies, stored copies, scans and verdicts exactly as sent', async () => {
    const ingestBefore = await scrape(urls.ingest);
    const scannerBefore = await scrape(urls.scanner);
    const queriesBefore = upstream.queries;
    const { client, greeting } = await RawSmtp.open(ports.journal);
    expect(greeting).toMatch(/^220 /);
    expect(await client.command('EHLO client.metrics.test')).toMatch(/^250/);
    const senders = ['alice@partner.example', 'mallory@bank.example', 'mallory@bank.example'];
    let betweenSecondAndThird: { before: MetricsSnapshot; queries: number } | undefined;
    for (const [index, sender] of senders.entries()) {
      if (index === 2) {
        betweenSecondAndThird = { before: await scrape(urls.scanner), queries: upstream.queries };
      }
      expect(await client.command(`MAIL FROM:<journal@customer.onmicrosoft.com>`)).toMatch(/^250/);
      expect(await client.command(`RCPT TO:<nobody@${JOURNAL_DOMAIN}>`)).toMatch(/^550 5\.1\.1/);
      expect(await client.command(`RCPT TO:<${journalAddress}>`)).toMatch(/^250/);
      expect(await client.command('DATA')).toMatch(/^354/);
      const messageId = `<metrics-${index}@${sender.split('@')[1]}>`;
      const original = buildOriginal({ from: sender, to: ['bob@customer.example', 'carol@customer.example'], subject: `m${index}`, messageId, received: [EDGE('203.0.113.9')] });
      const report = buildMicrosoftJournalReport({ journalAddress, sender, subject: `m${index}`, messageId, to: ['bob@customer.example', 'carol@customer.example'], original });
      client.write(Buffer.concat([report, Buffer.from('\r\n.\r\n')]));
      expect(await client.reply()).toMatch(/^250 2\.0\.0 Stored as/);
      // One scan at a time: the third message (same sender as the second) must be answered from the DNS cache.
      await waitFor(`scan ${index + 1}`, async () => (await scannedCount(watched.id)) === index + 1);
    }
    expect(await client.command('QUIT')).toMatch(/^221/);
    await client.closed;

    const ingestAfter = await scrape(urls.ingest);
    const journal = { front: 'journal' };
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_smtp_sessions_total', { ...journal, outcome: 'accepted' })).toBe(1);
    expect(ingestAfter.value('mailwarden_smtp_sessions_active', journal)).toBe(0);
    const replies = (command: string, code: string) => ingestAfter.delta(ingestBefore, 'mailwarden_smtp_replies_total', { ...journal, command, code });
    expect(replies('CONNECT', '220')).toBe(1);
    expect(replies('EHLO', '250')).toBe(1);
    expect(replies('MAIL', '250')).toBe(3);
    expect(replies('RCPT', '550')).toBe(3);
    expect(replies('RCPT', '250')).toBe(3);
    expect(replies('DATA', '354')).toBe(3);
    expect(replies('DATA', '250')).toBe(3);
    expect(replies('QUIT', '221')).toBe(1);
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_smtp_replies_total', journal)).toBe(1 + 1 + 3 * 5 + 1);
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_messages_stored_total', { source: 'JOURNAL', outcome: 'stored' })).toBe(3);
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_messages_stored_total')).toBe(3);

    const scannerAfter = await scrape(urls.scanner);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_scans_total', { source: 'JOURNAL', outcome: 'scanned' })).toBe(3);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_scans_total')).toBe(3);
    // Where the scans ran: from the queue, each copy handed over by the ingest because its inline scanning is off.
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_scan_attempts_total', { source: 'JOURNAL', where: 'queue' })).toBe(3);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_scan_attempts_total')).toBe(3);
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_inline_scan_handoffs_total', { reason: 'off' })).toBe(3);
    expect(ingestAfter.delta(ingestBefore, 'mailwarden_scan_attempts_total')).toBe(0);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_scan_duration_seconds_count', { source: 'JOURNAL' })).toBe(3);
    // The verdicts counted are the verdicts committed: the same split as in the database.
    const verdicts = await db.prisma.verdict.findMany({ where: { message: { accountId: watched.id } } });
    expect(verdicts).toHaveLength(6);
    expect(verdicts.some((verdict) => verdict.failedCheck === 'dmarc')).toBe(true);
    for (const verdict of verdicts) {
      const labels = { source: 'JOURNAL', decided: verdict.decidedAction, applied: verdict.appliedAction ?? 'none' };
      const expected = verdicts.filter((other) => other.decidedAction === verdict.decidedAction && other.appliedAction === verdict.appliedAction).length;
      expect(scannerAfter.delta(scannerBefore, 'mailwarden_verdicts_total', labels)).toBe(expected);
    }
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_verdicts_total')).toBe(6);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_verdict_failed_checks_total', { source: 'JOURNAL', check: 'dmarc' })).toBe(
      verdicts.filter((verdict) => verdict.failedCheck === 'dmarc').length,
    );
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_verdict_failed_checks_total')).toBe(verdicts.filter((verdict) => verdict.failedCheck).length);

    // DNS: the resolver's upstream count is the number of queries that reached the upstream, and the third scan
    // (the second's sender again) was answered from the cache alone.
    const queries = upstream.queries - queriesBefore;
    expect(queries).toBeGreaterThan(0);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_dns_upstream_queries_total')).toBe(queries);
    expect(scannerAfter.delta(scannerBefore, 'mailwarden_dns_lookups_total', { source: 'upstream' })).toBe(queries);
    const third = betweenSecondAndThird!;
    expect(upstream.queries - third.queries).toBe(0);
    expect(scannerAfter.delta(third.before, 'mailwarden_dns_upstream_queries_total')).toBe(0);
    const cached = scannerAfter.delta(third.before, 'mailwarden_dns_lookups_total', { source: 'cache' }) + scannerAfter.delta(third.before, 'mailwarden_dns_lookups_total', { source: 'negative_cache' });
    expect(cached).toBeGreaterThan(0);
    expect(scannerAfter.delta(third.before, 'mailwarden_dns_lookups_total')).toBe(cached);
  });

  it('should count gateway replies, checks, stored messages, DNS temporary errors and deliveries exactly as sent', async () => {
    const before = await scrape(urls.scanner);
    const servfailBefore = upstream.servfail;
    const { client } = await RawSmtp.open(ports.gateway);
    expect(await client.command('EHLO client.metrics.test')).toMatch(/^250/);
    const dataReplies: string[] = [];
    for (const sender of ['alice@partner.example', 'eve@flaky.example']) {
      expect(await client.command(`MAIL FROM:<${sender}>`)).toMatch(/^250/);
      expect(await client.command('RCPT TO:<user@acme.example>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<user@elsewhere.example>')).toMatch(/^550 5\.7\.1/);
      expect(await client.command('DATA')).toMatch(/^354/);
      client.write(Buffer.concat([buildRawMessage({ from: sender, to: ['user@acme.example'], subject: 'gateway', messageId: `<${randomUUID()}@metrics.test>` }), Buffer.from('\r\n.\r\n')]));
      dataReplies.push(await client.reply());
    }
    expect(await client.command('QUIT')).toMatch(/^221/);
    expect(dataReplies[0]).toMatch(/^250 /);
    const accepted = dataReplies.filter((reply) => reply.startsWith('250')).length;
    await waitFor('the deliveries', async () => sink.to('user@acme.example').length === accepted);

    const after = await scrape(urls.scanner);
    const gateway = { front: 'gateway' };
    expect(after.delta(before, 'mailwarden_smtp_sessions_total', { ...gateway, outcome: 'accepted' })).toBe(1);
    expect(after.delta(before, 'mailwarden_smtp_replies_total', { ...gateway, command: 'RCPT', code: '550' })).toBe(2);
    expect(after.delta(before, 'mailwarden_smtp_replies_total', { ...gateway, command: 'DATA', code: '250' })).toBe(accepted);
    for (const code of new Set(dataReplies.map((reply) => reply.slice(0, 3)))) {
      expect(after.delta(before, 'mailwarden_smtp_replies_total', { ...gateway, command: 'DATA', code })).toBe(dataReplies.filter((reply) => reply.startsWith(code)).length);
    }
    expect(after.delta(before, 'mailwarden_messages_stored_total', { source: 'GATEWAY', outcome: 'stored' })).toBe(accepted);
    expect(after.delta(before, 'mailwarden_scan_duration_seconds_count', { source: 'GATEWAY' })).toBe(2);
    expect(after.delta(before, 'mailwarden_scans_total', { source: 'GATEWAY' })).toBe(2);
    expect(after.delta(before, 'mailwarden_scans_total', { source: 'GATEWAY', outcome: 'temperror' })).toBe(dataReplies.filter((reply) => reply.startsWith('451')).length);
    expect(after.delta(before, 'mailwarden_verdicts_total', { source: 'GATEWAY' })).toBe(accepted);
    // Every SERVFAIL the upstream gave is a temporary error in the resolver's figures, and only those.
    expect(upstream.servfail - servfailBefore).toBeGreaterThan(0);
    expect(after.delta(before, 'mailwarden_dns_upstream_queries_total', { result: 'servfail' })).toBe(upstream.servfail - servfailBefore);
    expect(after.delta(before, 'mailwarden_delivery_attempts_total', { result: 'accepted' })).toBe(accepted);
    expect(after.delta(before, 'mailwarden_delivery_attempts_total')).toBe(accepted);
    expect(after.delta(before, 'mailwarden_delivery_recipients_total', { outcome: 'delivered' })).toBe(accepted);
    expect(after.delta(before, 'mailwarden_delivery_recipients_total')).toBe(accepted);
    // The scanner has no journal front, and the gateway's copies are not the ingest's.
    expect(after.value('mailwarden_smtp_replies_total', { front: 'journal' })).toBe(0);
  });

  it('should report queue depth, failures and the oldest waiting job per queue from Redis', async () => {
    // No scanner role works the mode-migration queue: what is put there stays.
    const connection = redisOptionsFromUrl(redis.url) as never;
    const queue = new Queue(QueueName.ModeMigration, { connection, prefix: redis.prefix });
    try {
      await queue.add('doomed', {}, { attempts: 1 });
      const worker = new Worker(
        QueueName.ModeMigration,
        async () => {
          throw new Error('fails on purpose');
        },
        { connection, prefix: redis.prefix },
      );
      await waitFor('the failed job', async () => (await queue.getJobCounts('failed')).failed === 1);
      await worker.close();
      await queue.add('old', {}, { timestamp: Date.now() - 90_000 });
      await queue.add('new', {});
      await queue.add('later', {}, { delay: 3_600_000 });

      const metrics = await scrape(urls.scanner);
      const labels = { queue: QueueName.ModeMigration };
      expect(metrics.value('mailwarden_queue_jobs', { ...labels, state: 'wait' })).toBe(2);
      expect(metrics.value('mailwarden_queue_jobs', { ...labels, state: 'delayed' })).toBe(1);
      expect(metrics.value('mailwarden_queue_jobs', { ...labels, state: 'failed' })).toBe(1);
      expect(metrics.value('mailwarden_queue_jobs', { ...labels, state: 'active' })).toBe(0);
      expect(metrics.value('mailwarden_queue_oldest_waiting_seconds', labels)).toBeGreaterThanOrEqual(90);
      expect(metrics.value('mailwarden_queue_oldest_waiting_seconds', labels)).toBeLessThan(600);
      // Every queue is reported, an empty one with no waiting age.
      expect(metrics.samples.filter((sample) => sample.name === 'mailwarden_queue_oldest_waiting_seconds').map((sample) => sample.labels.queue).sort()).toEqual(
        Object.values(QueueName).sort(),
      );
      expect(metrics.value('mailwarden_queue_oldest_waiting_seconds', { queue: QueueName.Delivery })).toBe(0);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('should count a Mimecast poll by its status', async () => {
    const before = await scrape(urls.scanner);
    // A connection that does not exist (deleted since the schedule ran): the poll is skipped.
    await scanner.get(MimecastPollerService, { strict: false }).poll(randomUUID());
    const after = await scrape(urls.scanner);
    expect(after.delta(before, 'mailwarden_mimecast_polls_total', { status: 'skipped' })).toBe(1);
    expect(after.delta(before, 'mailwarden_mimecast_polls_total')).toBe(1);
  });

  it('should count admin API requests by route template and status, with their latency', async () => {
    const { plaintext: key } = await new TestFactories(db.prisma).newApiKey({ name: 'metrics', role: 'TENANT_ADMIN', accountId: watched.id });
    const auth = { authorization: `Bearer ${key}` };
    const before = await scrape(urls.admin);
    for (let index = 0; index < 2; index++) {
      expect((await fetch(`${urls.admin}/v1/accounts/${watched.id}/messages`, { headers: auth })).status).toBe(200);
    }
    expect((await fetch(`${urls.admin}/v1/accounts/${watched.id}/messages`)).status).toBe(401);
    expect((await fetch(`${urls.admin}/v1/accounts/${watched.id}/messages/${randomUUID()}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${urls.admin}/no-such-route/${randomUUID()}`)).status).toBe(404);
    const after = await scrape(urls.admin);

    const list = { method: 'GET', route: '/v1/accounts/:accountId/messages' };
    expect(after.delta(before, 'mailwarden_http_requests_total', { ...list, status: '200' })).toBe(2);
    expect(after.delta(before, 'mailwarden_http_requests_total', { ...list, status: '401' })).toBe(1);
    expect(after.delta(before, 'mailwarden_http_request_duration_seconds_count', list)).toBe(3);
    expect(after.delta(before, 'mailwarden_http_requests_total', { method: 'GET', route: '/v1/accounts/:accountId/messages/:messageId', status: '404' })).toBe(1);
    expect(after.delta(before, 'mailwarden_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    // Five requests and the scrape before them (the scrape after is counted once it has been answered).
    expect(after.delta(before, 'mailwarden_http_requests_total')).toBe(6);
  });

  it('should never put an id, an address or a domain in a label value', async () => {
    const ids = [watched.id, watched.journalToken];
    for (const url of [urls.ingest, urls.scanner, urls.admin]) {
      const metrics = await scrape(url);
      for (const sample of metrics.samples.filter((entry) => entry.name.startsWith('mailwarden_') && !entry.name.startsWith('mailwarden_export_'))) {
        for (const value of Object.values(sample.labels)) {
          expect(value).not.toMatch(/@|\.example|[0-9a-f]{8}-[0-9a-f]{4}-/);
          expect(ids).not.toContain(value);
        }
      }
    }
  });
});
