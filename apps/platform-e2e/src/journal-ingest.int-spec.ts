import { connect } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '@mailwarden/config';
import { IncomingCommitter, type Account, type Message, type Verdict } from '@mailwarden/db';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import type { Registry } from 'prom-client';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import {
  buildGoogleJournalCopy,
  buildMicrosoftJournalReport,
  buildOriginal,
  createTestDatabase,
  createTestRedis,
  freePort,
  MetricsSnapshot,
  proxiedDatabaseUrl,
  RawSmtp,
  TestFactories,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';
// The scan worker lives in the scanner app; the journal path is only whole with it running.
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: runs the real scanner process module beside the ingest
import { createScanner } from '../../scanner/src/scanner.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { ScanSweeperService } from '../../scanner/src/scan/scan-sweeper.service';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the ingest under test
import { createJournalIngest } from '../../journal-ingest/src/journal-ingest.app';

const JOURNAL_DOMAIN = 'journal.mailwarden.test';
const EDGE = (ip: string, helo: string) =>
  `from ${helo} (${ip}) by BN1NAM02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server; Wed, 25 Nov 2026 10:00:00 +0000`;

describe('journal ingest (SMTP on 127.0.0.1, PostgreSQL, Redis, scan worker)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let ingest: INestApplication;
  let scanner: INestApplication;
  let smtpPort: number;
  let account: Account;
  let journalAddress: string;
  let sink: SMTPServer;
  const sinkReceived: string[] = [];

  const zone = new ZoneDnsResolver({
    'bank.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject'] },
    'partner.example': { TXT: ['v=spf1 ip4:203.0.113.0/24 -all'] },
    'customer.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
  });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  async function send(raw: Buffer, to = journalAddress): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail({ envelope: { from: 'journal@customer.onmicrosoft.com', to: [to] }, raw });
      return info.response;
    } finally {
      transport.close();
    }
  }

  async function scanned(messageIdHeader: string): Promise<Message & { verdicts: Verdict[] }> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const message = await db.prisma.message.findFirst({ where: { accountId: account.id, messageIdHeader }, include: { verdicts: true } });
      if (message && message.scanStatus !== 'PENDING') {
        return message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`message ${messageIdHeader} was not scanned`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    sink = new SMTPServer({ authOptional: true, disableReverseLookup: true, disabledCommands: ['STARTTLS'], onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => { sinkReceived.push('message'); cb(); }); } });
    sink.on('error', () => undefined);
    const sinkPort = await freePort();
    await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));

    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: true });
    // A downstream that points at the sink: if anything on the journal path delivered, the sink would see it.
    await factories.newDomain(account, { name: 'customer.example', mode: 'JOURNAL', downstreamHost: '127.0.0.1', downstreamPort: sinkPort });
    journalAddress = `${account.journalToken}@${JOURNAL_DOMAIN}`;

    smtpPort = await freePort();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'warn', SMTP_MAX_MESSAGE_SIZE: '256kb' };
    // The ingest scans what it stores (INGEST_INLINE_SCAN, on by default) with the same zone as the worker.
    ingest = await createJournalIngest(loadConfig('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(await freePort()) }), false, { dnsLookup });
    await ingest.init();
    scanner = await createScanner(
      loadConfig('scanner', { ...env, SCANNER_ROLE: 'worker', SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }),
      false,
      { dnsLookup },
    );
    await scanner.init();
  });

  afterAll(async () => {
    await scanner?.close();
    await ingest?.close();
    await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
    await redis?.cleanup();
    await db?.drop();
  });

  it('should store a Microsoft 365 journal report once, with the report recipients (Bcc and expanded list) as its envelope', async () => {
    const original = buildOriginal({
      from: 'Alice <alice@partner.example>',
      to: ['bob@customer.example'],
      cc: ['carol@customer.example'],
      subject: 'Quarterly numbers',
      messageId: '<m365-1@partner.example>',
      received: [EDGE('203.0.113.7', 'mail.partner.example')],
    });
    const response = await send(
      buildMicrosoftJournalReport({
        journalAddress,
        sender: 'alice@partner.example',
        subject: 'Quarterly numbers',
        messageId: '<m365-1@partner.example>',
        to: ['bob@customer.example'],
        cc: ['carol@customer.example'],
        bcc: ['dave@customer.example'],
        expanded: { list: 'team@customer.example', members: ['erin@customer.example', 'frank@customer.example'] },
        original,
      }),
    );
    expect(response).toMatch(/^250 /);

    const message = await scanned('<m365-1@partner.example>');
    expect(await db.prisma.message.count({ where: { accountId: account.id, messageIdHeader: '<m365-1@partner.example>' } })).toBe(1);
    expect(message).toMatchObject({ source: 'JOURNAL', direction: 'INBOUND', envelopeFrom: 'alice@partner.example', clientIp: '203.0.113.7', scanStatus: 'SCANNED' });
    expect([...message.envelopeTo].sort()).toEqual(
      ['bob@customer.example', 'carol@customer.example', 'dave@customer.example', 'erin@customer.example', 'frank@customer.example'].sort(),
    );
    const raw = await db.prisma.rawMessage.findUniqueOrThrow({ where: { id: message.rawMessageId } });
    expect(Buffer.from(raw.content).equals(original)).toBe(true);
    // Each recipient, the expanded list members included, gets its own decision; nothing is applied.
    expect(message.verdicts.map((verdict) => verdict.recipient).sort()).toEqual([...message.envelopeTo].sort());
    for (const verdict of message.verdicts) {
      expect(verdict).toMatchObject({ decidedAction: 'DELIVER', enforced: false, appliedAction: null });
      expect((verdict.checks as Array<{ check: string; status: string }>).find((check) => check.check === 'spf')?.status).toBe('pass');
    }
  });

  it('should store a Google Workspace copy and deduplicate a second copy on Message-ID and recipient', async () => {
    const original = buildOriginal({
      from: 'alice@partner.example',
      to: ['bob@customer.example'],
      subject: 'From Google',
      messageId: '<google-1@partner.example>',
      extraHeaders: ['Return-Path: <alice@partner.example>'],
    });
    const copy = buildGoogleJournalCopy('bob@customer.example', original);
    expect(await send(copy)).toMatch(/^250 /);
    expect(await send(copy)).toMatch(/^250 /);
    const message = await scanned('<google-1@partner.example>');
    expect(message.envelopeTo).toEqual(['bob@customer.example']);
    expect(await db.prisma.message.count({ where: { accountId: account.id, messageIdHeader: '<google-1@partner.example>' } })).toBe(1);
  });

  it('should record the failing check and the decided action of a spoof, and deliver nothing', async () => {
    const original = buildOriginal({
      from: 'Bank Security <security@bank.example>',
      to: ['bob@customer.example'],
      subject: 'Verify your account',
      messageId: '<spoof-1@evil.example>',
      received: [EDGE('192.0.2.66', 'mx.evil.example')],
    });
    expect(
      await send(
        buildMicrosoftJournalReport({ journalAddress, sender: 'security@bank.example', subject: 'Verify your account', messageId: '<spoof-1@evil.example>', to: ['bob@customer.example'], original }),
      ),
    ).toMatch(/^250 /);
    const message = await scanned('<spoof-1@evil.example>');
    expect(message.verdicts).toHaveLength(1);
    // DMARC fails (no aligned SPF or DKIM) and the sender publishes p=reject: Mailwarden would have rejected it.
    expect(message.verdicts[0]).toMatchObject({ failedCheck: 'dmarc', decidedAction: 'REJECT', appliedAction: null, enforced: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sinkReceived).toEqual([]);
  });

  it('should record internal mail as skipped', async () => {
    const original = buildOriginal({ from: 'bob@customer.example', to: ['carol@customer.example'], subject: 'Lunch?', messageId: '<internal-1@customer.example>' });
    await send(buildMicrosoftJournalReport({ journalAddress, sender: 'bob@customer.example', subject: 'Lunch?', messageId: '<internal-1@customer.example>', to: ['carol@customer.example'], original }));
    const message = await scanned('<internal-1@customer.example>');
    expect(message).toMatchObject({ direction: 'INTERNAL', scanStatus: 'SKIPPED' });
    expect(message.verdicts).toEqual([expect.objectContaining({ recipient: 'carol@customer.example', skippedReason: 'internal', enforced: false })]);
  });

  it('should scan a spoof of the tenant own domain that entered from the internet as INBOUND, and record why (issue 13 §1)', async () => {
    // The envelope sender and From are the tenant's own domain, but Exchange Online's inbound edge recorded an
    // outside client: a spoof, which the Global journal rule exists to catch. It must not be skipped as internal.
    const original = buildOriginal({
      from: 'CEO <ceo@customer.example>',
      to: ['bob@customer.example'],
      subject: 'Urgent wire',
      messageId: '<own-spoof-1@evil.example>',
      received: [EDGE('192.0.2.66', 'mx.evil.example')],
    });
    await send(buildMicrosoftJournalReport({ journalAddress, sender: 'ceo@customer.example', subject: 'Urgent wire', messageId: '<own-spoof-1@evil.example>', to: ['bob@customer.example'], original }));
    const message = await scanned('<own-spoof-1@evil.example>');
    expect(message).toMatchObject({ direction: 'INBOUND', scanStatus: 'SCANNED', clientIp: '192.0.2.66' });
    // customer.example allows 198.51.100.0/24 only: SPF fails against the client the edge recorded.
    const checks = message.verdicts[0]!.checks as Array<{ check: string; status: string; evidence?: Record<string, unknown> }>;
    expect(message.verdicts[0]!.failedCheck).not.toBeNull();
    expect(message.verdicts[0]!.decidedAction).not.toBe('DELIVER');
    const dmarc = checks.find((check) => check.check === 'dmarc')!;
    expect(dmarc.evidence?.computedFrom).toMatchObject({ spf: { result: 'fail', clientIp: '192.0.2.66' } });
    expect((message.metadata as { direction?: unknown }).direction).toMatchObject({
      direction: 'INBOUND',
      envelopeDirection: 'INTERNAL',
      enteredFromOutside: true,
      basis: 'provider-edge-hop',
      detail: expect.stringContaining('192.0.2.66'),
    });
  });

  it('should keep a real internal message (no edge hop) skipped, recording that it never entered from outside', async () => {
    const original = buildOriginal({
      from: 'bob@customer.example',
      to: ['carol@customer.example'],
      subject: 'Minutes',
      messageId: '<internal-2@customer.example>',
      received: ['from DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1::1) by SN6PR11MB5678.namprd11.prod.outlook.com with HTTPS; Wed, 25 Nov 2026 10:00:02 +0000'],
    });
    await send(buildMicrosoftJournalReport({ journalAddress, sender: 'bob@customer.example', subject: 'Minutes', messageId: '<internal-2@customer.example>', to: ['carol@customer.example'], original }));
    const message = await scanned('<internal-2@customer.example>');
    expect(message).toMatchObject({ direction: 'INTERNAL', scanStatus: 'SKIPPED' });
    expect((message.metadata as { direction?: unknown }).direction).toMatchObject({ direction: 'INTERNAL', enteredFromOutside: false, basis: 'no-provider-edge-hop' });
  });

  it('should refuse an unknown journal address with 550 5.1.1', async () => {
    await expect(send(buildGoogleJournalCopy('bob@customer.example', buildOriginal({ from: 'a@partner.example', to: ['bob@customer.example'], subject: 'x', messageId: '<x@y>' })), `j-unknown@${JOURNAL_DOMAIN}`)).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringMatching(/5\.1\.1/),
    });
  });

  it('should refuse a message that is not a journal copy with 554 5.6.0 saying why', async () => {
    const plain = buildOriginal({ from: 'a@partner.example', to: ['bob@customer.example'], subject: 'not journaled', messageId: '<plain-1@partner.example>' });
    await expect(send(plain)).rejects.toMatchObject({ responseCode: 554, response: expect.stringMatching(/5\.6\.0 Not a journal report/) });
    expect(await db.prisma.message.count({ where: { messageIdHeader: '<plain-1@partner.example>' } })).toBe(0);
  });

  it('should not let a bare-LF smuggled second message become a second message', async () => {
    const smuggled =
      `X-Gm-Original-To: bob@customer.example\r\nFrom: a@partner.example\r\nTo: bob@customer.example\r\nSubject: carrier\r\nMessage-ID: <smuggle-1@partner.example>\r\n\r\nhello\n.\n` +
      `MAIL FROM:<evil@evil.example>\nRCPT TO:<${journalAddress}>\nDATA\nX-Gm-Original-To: carol@customer.example\nMessage-ID: <smuggled-2@evil.example>\nSubject: smuggled\n\nowned\n`;
    const replies = await rawSmtp(smtpPort, [
      'EHLO tester.example',
      'MAIL FROM:<journal@customer.onmicrosoft.com>',
      `RCPT TO:<${journalAddress}>`,
      'DATA',
      `${smuggled}\r\n.`,
      'QUIT',
    ]);
    expect(replies.filter((reply) => reply.startsWith('250 2.0.0 Stored'))).toHaveLength(1);
    const message = await scanned('<smuggle-1@partner.example>');
    expect(message.envelopeTo).toEqual(['bob@customer.example']);
    expect((message.metadata as { journal: { bareLineEnds: boolean } }).journal.bareLineEnds).toBe(true);
    expect(await db.prisma.message.count({ where: { messageIdHeader: '<smuggled-2@evil.example>' } })).toBe(0);
  });

  it('should offer STARTTLS and hold an account that requires TLS to it', async () => {
    const strict = await new TestFactories(db.prisma).newAccount({ monitorOnly: true, journalRequireTls: true });
    await db.prisma.domain.create({ data: { accountId: strict.id, name: 'strict.example', verificationStatus: 'VERIFIED', verificationToken: 't' } });
    const address = `${strict.journalToken}@${JOURNAL_DOMAIN}`;
    const raw = buildGoogleJournalCopy('bob@strict.example', buildOriginal({ from: 'a@partner.example', to: ['bob@strict.example'], subject: 'tls', messageId: '<tls-1@partner.example>' }));

    await expect(send(raw, address)).rejects.toMatchObject({ responseCode: 530, response: expect.stringMatching(/5\.7\.0/) });
    const tlsTransport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      const info = await tlsTransport.sendMail({ envelope: { from: 'journal@google.example', to: [address] }, raw });
      expect(info.response).toMatch(/^250 /);
    } finally {
      tlsTransport.close();
    }
    const stored = await db.prisma.message.findFirstOrThrow({ where: { accountId: strict.id, messageIdHeader: '<tls-1@partner.example>' } });
    expect((stored.metadata as { journal: { journalTls: boolean } }).journal.journalTls).toBe(true);
  });

  it('should refuse a message over the size limit with 552 5.3.4 and store nothing', async () => {
    const original = buildOriginal({ from: 'a@partner.example', to: ['bob@customer.example'], subject: 'big', messageId: '<big-1@partner.example>', body: 'x'.repeat(76).concat('\r\n').repeat(5000) });
    await expect(send(buildGoogleJournalCopy('bob@customer.example', original))).rejects.toMatchObject({ responseCode: 552, response: expect.stringMatching(/5\.3\.4/) });
    expect(await db.prisma.message.count({ where: { messageIdHeader: '<big-1@partner.example>' } })).toBe(0);
  });

  it('should answer 4xx, never 250 or 5xx, while PostgreSQL is down', async () => {
    const proxied = await proxiedDatabaseUrl(db.url);
    const port = await freePort();
    const cutOff = await createJournalIngest(
      loadConfig('journal-ingest', { DATABASE_URL: proxied.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'fatal', JOURNAL_SMTP_PORT: String(port), JOURNAL_HTTP_PORT: String(await freePort()) }),
      false,
    );
    await cutOff.init();
    try {
      await proxied.proxy.cut();
      const original = buildOriginal({ from: 'a@partner.example', to: ['bob@customer.example'], subject: 'db down', messageId: '<dbdown-1@partner.example>' });
      const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
      const sent = transport.sendMail({ envelope: { from: 'journal@customer.onmicrosoft.com', to: [journalAddress] }, raw: buildGoogleJournalCopy('bob@customer.example', original) });
      await expect(sent).rejects.toMatchObject({ responseCode: 451, response: expect.stringMatching(/4\.3\.0/) });
      transport.close();
    } finally {
      await cutOff.close();
    }
    expect(await db.prisma.message.count({ where: { messageIdHeader: '<dbdown-1@partner.example>' } })).toBe(0);
  });

  describe('group commit of concurrent sessions (issue 20)', () => {
    const copyFor = (tag: string): Buffer =>
      buildGoogleJournalCopy(
        'bob@customer.example',
        buildOriginal({ from: 'alice@partner.example', to: ['bob@customer.example'], subject: tag, messageId: `<${tag}@partner.example>`, extraHeaders: ['Return-Path: <alice@partner.example>'] }),
      );

    /** A session up to DATA's 354, for `to`; the copy is sent later with {@link finish}. */
    async function openSession(to: string): Promise<RawSmtp> {
      const { client } = await RawSmtp.open(smtpPort);
      expect(await client.command('EHLO group.test')).toMatch(/^250/);
      expect(await client.command('MAIL FROM:<journal@customer.onmicrosoft.com>')).toMatch(/^250/);
      expect(await client.command(`RCPT TO:<${to}>`)).toMatch(/^250/);
      expect(await client.command('DATA')).toMatch(/^354/);
      return client;
    }
    const finish = (client: RawSmtp, raw: Buffer): void => client.write(Buffer.concat([raw, Buffer.from(raw.subarray(-2).toString() === '\r\n' ? '.\r\n' : '\r\n.\r\n')]));

    /** Holds every store at its start (it needs a row lock mode on "message_dedup") until the returned release. */
    async function holdStores(): Promise<() => Promise<void>> {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const transaction = db.prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE "message_dedup" IN EXCLUSIVE MODE');
          locked();
          await released;
        },
        { timeout: 120_000, maxWait: 10_000 },
      );
      await isLocked;
      return async () => {
        release();
        await transaction;
      };
    }

    async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
      for (let attempt = 0; attempt < 400; attempt++) {
        if (await check()) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    }
    const storeWaitsOnLock = () =>
      until(async () => {
        const [row] = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS "n" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return row!.n > 0;
      }, 'the first commit to wait on the lock');
    const batchSizes = async () => {
      const metrics = MetricsSnapshot.parse(await ingest.get<Registry>(METRICS_REGISTRY).metrics());
      return { commits: metrics.value('mailwarden_message_commit_batch_size_count'), copies: metrics.value('mailwarden_message_commit_batch_size_sum') };
    };
    /** The transaction that stored a copy: its raw bytes' row (never updated; the message row is, by the copy's verdict, possibly before this reads it). */
    const xminOf = async (tag: string) => {
      const [row] = await db.prisma.$queryRawUnsafe<Array<{ xmin: string }>>(
        `SELECT r.xmin::text AS "xmin" FROM "message" m JOIN "raw_message" r ON r."id" = m."raw_message_id" WHERE m."message_id_header" = $1`,
        `<${tag}@partner.example>`,
      );
      return row?.xmin;
    };

    /**
     * Sends the first copy while stores are held (its commit waits), then the others, which wait in the committer
     * for that commit (none stored, none answered); releases the hold and returns every session's reply.
     */
    async function sendBehindAHeldCommit(sessions: RawSmtp[], tags: string[]): Promise<string[]> {
      const release = await holdStores();
      try {
        finish(sessions[0]!, copyFor(tags[0]!));
        await storeWaitsOnLock();
        tags.slice(1).forEach((tag, index) => finish(sessions[index + 1]!, copyFor(tag)));
        await until(() => ingest.get(IncomingCommitter).waitingCopies === tags.length - 1, 'the later copies to wait for the commit in flight');
        expect(await db.prisma.message.count({ where: { messageIdHeader: { in: tags.map((tag) => `<${tag}@partner.example>`) } } })).toBe(0);
      } finally {
        await release();
      }
      const replies = await Promise.all(sessions.map((session) => session.reply()));
      sessions.forEach((session) => session.close());
      return replies;
    }

    it('should commit the copies of sessions that arrive during a commit in one transaction, and answer each 250 after it', async () => {
      const sessions = await Promise.all(['group-1', 'group-2', 'group-3'].map(() => openSession(journalAddress)));
      const before = await batchSizes();
      const replies = await sendBehindAHeldCommit(sessions, ['group-1', 'group-2', 'group-3']);

      expect(replies.every((reply) => reply.startsWith('250 '))).toBe(true);
      const [first, second, third] = await Promise.all(['group-1', 'group-2', 'group-3'].map(xminOf));
      expect(first).toBeDefined();
      expect(second).toBeDefined();
      expect(second).toBe(third);
      expect(first).not.toBe(second);
      expect(await batchSizes()).toEqual({ commits: before.commits + 2, copies: before.copies + 3 });
    });

    it('should answer 451 4.3.0 to the one copy of a batch that cannot be stored, and 250 to the others', async () => {
      const doomed = await new TestFactories(db.prisma).newAccount({ monitorOnly: true });
      const sessions = [await openSession(journalAddress), await openSession(journalAddress), await openSession(`${doomed.journalToken}@${JOURNAL_DOMAIN}`)];
      // The tenant is deleted after its session looked it up: its copy breaks the foreign key of "message".
      await db.prisma.account.delete({ where: { id: doomed.id } });
      const replies = await sendBehindAHeldCommit(sessions, ['mixed-1', 'mixed-2', 'mixed-doomed']);

      expect(replies[0]).toMatch(/^250 /);
      expect(replies[1]).toMatch(/^250 /);
      expect(replies[2]).toMatch(/^451 4\.3\.0/);
      expect(await xminOf('mixed-1')).toBeDefined();
      expect(await xminOf('mixed-2')).toBeDefined();
      expect(await xminOf('mixed-doomed')).toBeUndefined();
    });
  });

  it('should scan a message stored without its job (ingest crashed after the commit) once the sweeper runs', async () => {
    const factories = new TestFactories(db.prisma);
    const orphan = await factories.newMessage(account, { envelopeFrom: 'alice@partner.example', envelopeTo: ['bob@customer.example'], messageIdHeader: '<orphan-1@partner.example>' });
    expect(await scanner.get(ScanSweeperService).sweep(0)).toBeGreaterThanOrEqual(1);
    const message = await scanned('<orphan-1@partner.example>');
    expect(message.id).toBe(orphan.id);
    expect(message.verdicts).toHaveLength(1);
  });
});

/** Speaks SMTP line by line over a raw socket (no client-side dot-stuffing or line-end repair). */
function rawSmtp(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^\d{3}-/.test(line)) continue; // continuation of a multi-line reply
        replies.push(line);
        if (next < commands.length) socket.write(`${commands[next++]}\r\n`, 'latin1');
        else socket.end();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(replies));
  });
}
