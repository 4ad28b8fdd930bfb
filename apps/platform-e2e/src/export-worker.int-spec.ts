import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import { ThirdPartyAlertRepository, type Account, type ExportDestination, type PrismaService } from '@mailwarden/db';
import { ExportDestinationsService, ExportSinkFactory, OcsfSchema, type OcsfEvent } from '@mailwarden/export';
import { MimecastLogKind, toThirdPartyAlert } from '@mailwarden/mimecast';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import type { Registry } from 'prom-client';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { buildMicrosoftJournalReport, buildOriginal, createTestDatabase, createTestRedis, freePort, startAppProcess, TestFactories, type AppProcess, type TestDatabase, type TestRedis } from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the journal path starts at the real ingest
import { createJournalIngest } from '../../journal-ingest/src/journal-ingest.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the receivers of libs/export's own tests
import { startHecReceiver, type HecReceiver } from '../../../libs/export/test/hec-receiver';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { startRsyslog, type RsyslogReceiver } from '../../../libs/export/test/rsyslog-receiver';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the scanner under test
import { createScanner } from '../../scanner/src/scanner.app';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';
const SECRETS_KEY = Buffer.alloc(32, 9).toString('base64');
const EDGE = (ip: string, helo: string) => `from ${helo} (${ip}) by BN1NAM02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server; Sat, 5 Dec 2026 10:00:00 +0000`;
const schema = OcsfSchema.load(OcsfSchema.defaultDir(path.resolve(__dirname, '../../..')));

jest.setTimeout(600_000);

/**
 * The export end to end: journal copies through the real ingest and scan workers, out through the export worker to
 * three real receivers on 127.0.0.1 (a HEC-compatible collector, Debian's rsyslogd over TCP, NDJSON files), every
 * event validated against the OCSF schema source. Then an outage of one destination, a Mimecast alert, and a
 * SIGKILL of the export worker mid-batch.
 */
describe('SIEM export (journal ingest → scan → export → HEC, rsyslog, NDJSON)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let account: Account;
  let ingest: INestApplication;
  let scanner: INestApplication | undefined;
  let smtpPort: number;
  let exportRoot: string;
  let hec: HecReceiver;
  let rsyslog: RsyslogReceiver;
  let env: Record<string, string>;
  const destinations: Record<'hec' | 'syslog' | 'ndjson', ExportDestination | undefined> = { hec: undefined, syslog: undefined, ndjson: undefined };

  const zone = new ZoneDnsResolver({
    'partner.example': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    'bank.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject'] },
  });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  async function startScannerInProcess(): Promise<INestApplication> {
    const app = await createScanner(loadConfig('scanner', { ...env, SCANNER_ROLE: 'worker', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }), false, {
      dnsLookup,
      // Pruning is left to libs/export's runner test: here the outbox keeps every row for the replay below.
      export: { everyMs: 200, backoffBaseMs: 250, backoffMaxMs: 2000, leaseMs: 5000, pruneEveryMs: 600_000 },
    });
    await app.init();
    return app;
  }

  async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Sends journal reports over 4 reused connections; every tenth is a spoof of bank.example (SPF and DMARC fail). */
  async function sendJournal(count: number, tag: string): Promise<void> {
    const journalAddress = `${account.journalToken}@${JOURNAL_DOMAIN}`;
    const transports = [0, 1, 2, 3].map(() => createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity }));
    try {
      await Promise.all(
        transports.map(async (transport, lane) => {
          for (let index = lane; index < count; index += transports.length) {
            const spoof = index % 10 === 0;
            const sender = spoof ? 'ceo@bank.example' : `alice${index}@partner.example`;
            const messageId = `<${tag}-${index}@${spoof ? 'bank' : 'partner'}.example>`;
            const original = buildOriginal({
              from: sender,
              to: ['bob@customer.example'],
              cc: ['carol@customer.example'],
              subject: `${tag} ${index}`,
              messageId,
              received: [EDGE('203.0.113.7', 'mail.partner.example')],
              body: `See https://portal.partner.example/doc/${index} today.`,
            });
            const raw = buildMicrosoftJournalReport({ journalAddress, sender, subject: `${tag} ${index}`, messageId, to: ['bob@customer.example'], cc: ['carol@customer.example'], original });
            const info = await transport.sendMail({ envelope: { from: 'journal@customer.onmicrosoft.com', to: [journalAddress] }, raw });
            expect(info.response).toMatch(/^250 /);
          }
        }),
      );
    } finally {
      transports.forEach((transport) => transport.close());
    }
  }

  async function ndjsonEvents(folder: string): Promise<OcsfEvent[]> {
    const dir = path.join(exportRoot, folder);
    const files = (await readdir(dir).catch(() => [])).sort();
    const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
    return texts.flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as OcsfEvent));
  }

  const received = {
    hec: async () => hec.accepted.map((envelope) => envelope.event as OcsfEvent),
    syslog: async () => (await rsyslog.records()).map((record) => record.event as OcsfEvent),
    ndjson: () => ndjsonEvents(path.join(account.id, 'lake')),
  };

  const activities = (events: OcsfEvent[]) => events.filter((event) => event.class_uid === 4009);
  const messageIdsOf = (events: OcsfEvent[]) => new Set(activities(events).map((event) => (event.email as { uid: string }).uid));
  const storedMessageIds = async () => new Set((await db.prisma.message.findMany({ where: { accountId: account.id }, select: { id: true } })).map((message) => message.id));
  const statusOf = async (destination: ExportDestination) => (await db.prisma.exportDestination.findUniqueOrThrow({ where: { id: destination.id } }));

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    exportRoot = await mkdtemp(path.join(tmpdir(), 'mw-export-e2e-'));
    hec = await startHecReceiver();
    rsyslog = await startRsyslog({ port: await freePort() });
    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'customer.example', mode: 'JOURNAL' });
    smtpPort = await freePort();
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      HOST: '127.0.0.1',
      JOURNAL_DOMAIN,
      LOG_LEVEL: 'warn',
      SECRETS_KEY,
      EXPORT_FILE_DIR: exportRoot,
      EXPORT_BATCH_SIZE: '250',
      SCAN_CONCURRENCY: '16',
    };
    ingest = await createJournalIngest(loadConfig('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(await freePort()) }), false, { dnsLookup });
    await ingest.init();
    scanner = await startScannerInProcess();
    const service = scanner.get(ExportDestinationsService, { strict: false });
    const owner = { accountId: account.id };
    const hecView = await service.create(owner, { name: 'splunk', kind: 'HEC', settings: { url: hec.url }, credentials: { token: hec.token } });
    const syslogView = await service.create(owner, { name: 'rsyslog', kind: 'SYSLOG', settings: { host: '127.0.0.1', port: rsyslog.port, hostname: 'mailwarden-test' } });
    const ndjsonView = await service.create(owner, { name: 'lake', kind: 'NDJSON', settings: { folder: 'lake', maxBytes: 1024 * 1024 } });
    destinations.hec = await statusOf({ id: hecView.id } as ExportDestination);
    destinations.syslog = await statusOf({ id: syslogView.id } as ExportDestination);
    destinations.ndjson = await statusOf({ id: ndjsonView.id } as ExportDestination);
  });

  afterAll(async () => {
    await scanner?.close();
    await ingest?.close();
    await hec?.close();
    await rsyslog?.close();
    await redis?.cleanup();
    await db?.drop();
    await rm(exportRoot, { recursive: true, force: true });
  });

  it('should deliver an Email Activity for each of 2,000 journal copies to every destination, each event valid OCSF 1.8.0', async () => {
    const started = Date.now();
    await sendJournal(2000, 'bulk');
    const ids = await storedMessageIds();
    expect(ids.size).toBe(2000);
    for (const name of ['hec', 'syslog', 'ndjson'] as const) {
      await waitUntil(async () => messageIdsOf(await received[name]()).size >= 2000, 300_000, `${name} to receive 2,000 Email Activity events`);
    }
    console.log(`export e2e: 2000 journal copies scanned and exported to 3 destinations in ${Date.now() - started} ms`);
    for (const name of ['hec', 'syslog', 'ndjson'] as const) {
      const events = await received[name]();
      expect([name, messageIdsOf(events)]).toEqual([name, ids]);
      const invalid = events.map((event) => ({ uid: event.metadata.uid, errors: schema.validate(event) })).filter((entry) => entry.errors.length > 0);
      expect([name, invalid.slice(0, 3)]).toEqual([name, []]);
      // Monitor-only: decisions are Logged or Detected, never applied.
      expect([name, [...new Set(activities(events).map((event) => `${event.activity_id}:${event.action_id}:${event.disposition_id}`))].sort()]).toEqual([name, ['3:3:15', '3:3:17']]);
      const findings = events.filter((event) => event.class_uid === 2004);
      expect([name, findings.length]).toEqual([name, 200]); // each spoof: DMARC failed (the first failing check decides)
      expect(findings.every((event) => (event.finding_info as { attacks: Array<{ technique: { uid: string } }> }).attacks[0]!.technique.uid === 'T1566')).toBe(true);
    }
    const spoof = activities(await received.hec()).find((event) => (event.email as { message_uid?: string }).message_uid === '<bulk-0@bank.example>')!;
    // DMARC failed first, so SPF was not run on its own (DESIGN.md §4) and email_auth carries no spf.
    expect(spoof).toMatchObject({ severity_id: 4, email_auth: { dmarc: 'fail', dmarc_policy: 'reject' }, src_endpoint: { ip: '203.0.113.7' }, email: { cc: ['carol@customer.example'], urls: [{ url_string: 'https://portal.partner.example/doc/0' }] } });
    const status = await scanner!.get(ExportDestinationsService, { strict: false }).view(await statusOf(destinations.hec!));
    expect(status.status).toMatchObject({ lagEvents: 0, eventsSent: 2200, lastError: null, consecutiveFailures: 0 });
  });

  it('should keep one destination down without holding up the others, then catch it up with no gap', async () => {
    hec.mode = 'down';
    const downSince = Date.now();
    await sendJournal(300, 'outage');
    const ids = await storedMessageIds();
    expect(ids.size).toBe(2300);
    await waitUntil(async () => messageIdsOf(await received.syslog()).size >= 2300 && messageIdsOf(await received.ndjson()).size >= 2300, 120_000, 'the healthy destinations to keep receiving');
    // The outage lasts a full minute, as the issue asks: many failed attempts under back-off (250 ms doubling to
    // 2 s here; 1 s doubling to 5 min by default), while the other destinations have long caught up.
    await waitUntil(() => Date.now() - downSince >= 60_000, 70_000, 'the outage to last a minute');
    const during = await statusOf(destinations.hec!);
    expect(during.consecutiveFailures).toBeGreaterThanOrEqual(3);
    // Backing off, not hammering: after 250 ms, 500 ms and 1 s every retry waits the 2 s cap, so the outage allows
    // at most 4 + ceil(duration / 2 s) attempts (about 34 in a minute); a retry every scheduled run would make hundreds.
    expect(during.consecutiveFailures).toBeLessThanOrEqual(4 + Math.ceil((Date.now() - downSince) / 2000));
    expect(during.lastError).toMatch(/socket hang up|ECONNRESET/);
    expect(messageIdsOf(await received.hec()).size).toBe(2000);
    const lagging = await scanner!.get(ExportDestinationsService, { strict: false }).view(during);
    expect(lagging.status.lagEvents).toBe(300);
    const metrics = await scanner!.get<symbol, Registry>(METRICS_REGISTRY, { strict: false }).metrics();
    const labels = `destination="${destinations.hec!.id}",kind="HEC",name="splunk",app="scanner"`;
    expect(metrics).toContain(`mailwarden_export_lag_events{${labels}} 300`);
    expect(metrics).toMatch(new RegExp(`mailwarden_export_consecutive_failures\\{${labels}\\} ([3-9]|[1-9]\\d+)\\n`));
    expect(metrics).toContain(`mailwarden_export_events_sent{${labels}} 2200`);

    hec.mode = 'ok';
    await waitUntil(async () => messageIdsOf(await received.hec()).size >= 2300, 60_000, 'the HEC destination to catch up');
    expect(messageIdsOf(await received.hec())).toEqual(ids);
    const caughtUp = await statusOf(destinations.hec!);
    expect(caughtUp).toMatchObject({ consecutiveFailures: 0, nextAttemptAt: null });
    expect(caughtUp.lastSuccessAt!.getTime()).toBeGreaterThan(during.lastErrorAt!.getTime());
    // No event was sent twice to the healthy destinations (nothing crashed).
    for (const name of ['syslog', 'ndjson'] as const) {
      const uids = (await received[name]()).map((event) => event.metadata.uid);
      expect([name, uids.length - new Set(uids).size]).toEqual([name, 0]);
    }
  });

  it('should turn a stored Mimecast alert into a Detection Finding with its ATT&CK technique', async () => {
    const connection = await db.prisma.mimecastConnection.create({ data: { accountId: account.id, apiVersion: 'V2', baseUrl: 'https://api.services.mimecast.com', encryptedCredentials: 'v1.x.y.z' } });
    await db.prisma.mimecastPollCursor.create({ data: { connectionId: connection.id, logType: 'IMPERSONATION', windowStart: new Date() } });
    const record = {
      senderAddress: 'ceo@bank-lookalike.example',
      recipientAddress: 'bob@customer.example',
      subject: 'Urgent transfer',
      definition: 'Default Impersonation Definition',
      hits: 2,
      identifiers: ['similar_internal_domain'],
      action: 'none',
      taggedMalicious: true,
      eventTime: '2026-12-05T09:30:00+0000',
      messageId: '<imp-1@bank-lookalike.example>',
    };
    // The poller's page commit: the alert and its outbox row in one transaction.
    await new ThirdPartyAlertRepository(db.prisma as unknown as PrismaService).commitPage({
      connectionId: connection.id,
      accountId: account.id,
      logType: 'IMPERSONATION',
      alerts: [toThirdPartyAlert(MimecastLogKind.Impersonation, record)],
      malformed: [],
      cursor: { windowStart: new Date(), windowEnd: null, pageToken: null },
    });
    const alert = await db.prisma.thirdPartyAlert.findFirstOrThrow({ where: { accountId: account.id } });
    for (const name of ['hec', 'syslog', 'ndjson'] as const) {
      await waitUntil(async () => (await received[name]()).some((event) => (event.finding_info as { uid?: string } | undefined)?.uid === alert.id), 30_000, `${name} to receive the finding`);
      const finding = (await received[name]()).find((event) => (event.finding_info as { uid?: string } | undefined)?.uid === alert.id)!;
      expect(schema.validate(finding)).toEqual([]);
      expect(finding).toMatchObject({
        class_uid: 2004,
        finding_info: {
          title: 'Impersonation Attempt',
          attacks: [{ tactic: { uid: 'TA0043', name: 'Reconnaissance' }, technique: { uid: 'T1598' }, sub_technique: { uid: 'T1598.003', name: 'Spearphishing Link' } }],
        },
        evidences: [{ email: { from: 'ceo@bank-lookalike.example', to: ['bob@customer.example'], message_uid: '<imp-1@bank-lookalike.example>' } }],
      });
    }
  });

  it('should leave no gap when the export worker is killed mid-batch; duplicates only of the same metadata.uid', async () => {
    await scanner!.close();
    scanner = undefined;
    // A second collector, slow enough for a batch to be in flight when the worker dies. Its destination replays the
    // whole outbox from the start (cursor moved back), 100 rows per batch.
    const slow = await startHecReceiver('replay-token');
    let worker: AppProcess | undefined;
    try {
      const replay = await db.prisma.exportDestination.create({
        data: { accountId: account.id, name: 'replay', kind: 'HEC', settings: { url: slow.url }, cursorTxId: 0n, cursorId: 0n },
      });
      const sinks = new ExportSinkFactory(SECRETS_KEY, exportRoot);
      await db.prisma.exportDestination.update({ where: { id: replay.id }, data: { encryptedCredentials: sinks.encrypt(replay.id, { token: 'replay-token' }) } });
      let killedAt = -1;
      slow.beforeReply = async () => {
        if (killedAt < 0 && slow.accepted.length >= 600 && worker) {
          killedAt = slow.accepted.length;
          await worker.kill9();
        }
      };
      worker = await startAppProcess(
        'scanner',
        { ...env, SCANNER_ROLE: 'worker', EXPORT_BATCH_SIZE: '100', EXPORT_LEASE_SECONDS: '3', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) },
        /export\.worker_started/,
      );
      await waitUntil(() => killedAt > 0, 120_000, 'the worker to be killed mid-batch').catch((error: Error) => {
        throw new Error(`${error.message}; accepted ${slow.accepted.length}, statuses ${slow.statuses.slice(-5).join(',')}; worker log:\n${worker?.output().slice(-3000)}`);
      });
      const beforeRestart = slow.accepted.length;
      expect((await statusOf(replay)).leaseOwner).not.toBeNull(); // it died holding the destination

      scanner = await startScannerInProcess();
      // Everything the outbox holds is replayed (every message, unless a worker's pruning removed older rows).
      const ids = new Set((await db.prisma.outboxEvent.findMany({ where: { topic: 'verdict', accountId: account.id }, select: { aggregateId: true } })).map((row) => row.aggregateId));
      expect(ids.size).toBeGreaterThanOrEqual(600);
      await waitUntil(async () => messageIdsOf(slow.accepted.map((envelope) => envelope.event as OcsfEvent)).size >= ids.size, 120_000, 'the replay to finish after the restart');
      const events = slow.accepted.map((envelope) => envelope.event as OcsfEvent);
      expect(messageIdsOf(events)).toEqual(ids);
      const byUid = new Map<string, string[]>();
      for (const event of events) {
        byUid.set(event.metadata.uid, [...(byUid.get(event.metadata.uid) ?? []), JSON.stringify(event)]);
      }
      const duplicated = [...byUid.values()].filter((copies) => copies.length > 1);
      // The batch in flight at the kill was sent again, and nothing else: each copy is the same event, same uid.
      expect(duplicated.length).toBeGreaterThan(0);
      expect(duplicated.length).toBeLessThanOrEqual(100 * 2);
      expect(duplicated.every((copies) => copies.length === 2 && copies[0] === copies[1])).toBe(true);
      console.log(`export kill-9: accepted before kill=${killedAt} at restart=${beforeRestart} total=${events.length} distinct=${byUid.size} duplicated=${duplicated.length}`);
    } finally {
      await worker?.kill9();
      await slow.close();
    }
  });
});
