import type { Account } from '@mailwarden/db';
import { hasBareCrOrLf, normalizeLineEnds } from '@mailwarden/journal';
import {
  asReceived,
  beginData,
  buildMicrosoftJournalReport,
  codes,
  createTestDatabase,
  createTestRedis,
  dotStuff,
  FAULT_SENDER,
  faultAppEnv,
  DnsTestServer,
  freePort,
  getHealth,
  RawSmtp,
  SmtpSink,
  replyClass,
  sendMessage,
  startFaultApps,
  tally,
  TestFactories,
  waitFor,
  within,
  type AppProcess,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';
import { CORPUS_SIZE_LIMIT, corpusMessageId, DAMAGED_WRAPPERS, DATA_CONTROL_KEYWORD, MALFORMED_CORPUS, pseudoRandomBytes, type CorpusOutcome } from './malformed-corpus';

const JOURNAL_DOMAIN = 'journal.fault.test';
const SOCKET_TIMEOUT_MS = 1_500;
const SENDER = FAULT_SENDER;

const EXPECTED_REPLY: Record<CorpusOutcome, RegExp> = {
  accepted: /^250 /,
  'too-big': /^552 5\.3\.4 /,
  'not-journal': /^554 5\.6\.0 /,
};

/**
 * Bad input against the real journal ingest and the real scanner (SCANNER_ROLE=all), each its own process: every
 * malformed message, protocol abuse and slow client gets the right answer, and neither process dies.
 */
describe('bad input (journal ingest and gateway as processes)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  // An empty zone: NXDOMAIN for every name, so the sender checks never wait on the machine's resolver.
  const dns = new DnsTestServer();
  const sink = new SmtpSink({ maxSize: CORPUS_SIZE_LIMIT * 4 });
  let ingest: AppProcess;
  let scanner: AppProcess;
  let journalAccount: Account;
  let gatewayAccount: Account;
  const ports = { journalSmtp: 0, journalHttp: 0, gatewaySmtp: 0, gatewayHttp: 0 };
  let journalAddress: string;
  const GATEWAY_RECIPIENT = 'bob@gw.example';

  /** The two SMTP listeners under test, each with a recipient it accepts. */
  const targets = () => [
    { name: 'journal', port: ports.journalSmtp, recipient: journalAddress },
    { name: 'gateway', port: ports.gatewaySmtp, recipient: GATEWAY_RECIPIENT },
  ];

  /** A small message; for the journal it travels as the original inside a Microsoft 365 report. */
  const payloadFor = (name: string, messageId: string, subject: string, body = 'hello\r\n') => {
    const original = Buffer.from(`Message-ID: ${messageId}\r\nFrom: ${SENDER}\r\nTo: bob@customer.example\r\nSubject: ${subject}\r\n\r\n${body}`);
    const payload = name === 'journal' ? buildMicrosoftJournalReport({ journalAddress, sender: SENDER, subject, messageId, to: ['bob@customer.example'], original }) : original;
    return { original, payload };
  };

  /** Runs `use` on a fresh raw session with the named listener, closing it afterwards whatever happens. */
  async function inSession(name: string, use: (session: RawSmtp, target: ReturnType<typeof targets>[number]) => Promise<void>): Promise<void> {
    const target = targets().find((entry) => entry.name === name)!;
    const { client: session } = await RawSmtp.open(target.port);
    try {
      await use(session, target);
    } finally {
      session.close();
    }
  }

  const storedByMessageId = (accountId: string, messageIdHeader: string) =>
    db.prisma.message.findMany({ where: { accountId, messageIdHeader }, include: { verdicts: true } });

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis(), dns.start(), sink.start()]);
    const factories = new TestFactories(db.prisma);
    journalAccount = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(journalAccount, { name: 'customer.example', mode: 'JOURNAL' });
    journalAddress = `${journalAccount.journalToken}@${JOURNAL_DOMAIN}`;
    gatewayAccount = await factories.newAccount({ monitorOnly: false });
    const gateway = await factories.newDomain(gatewayAccount, { name: 'gw.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    // The sink's certificate is smtp-server's self-signed one: TLS stays required, the check is off for this domain.
    await db.prisma.domain.update({ where: { id: gateway.id }, data: { downstreamVerifyCert: false } });
    // A Data Control rule makes every scan parse the MIME tree (it is skipped without one) and quarantines the
    // cases whose keyword sits deep inside their broken structure.
    for (const account of [journalAccount, gatewayAccount]) {
      await factories.newAccountPolicy(account, 'DATA_CONTROL', {
        rules: [{ id: 'fault', kind: 'keyword', keywords: [DATA_CONTROL_KEYWORD], enabled: true, action: 'QUARANTINE', directions: ['INBOUND'], targets: ['body', 'attachments'] }],
      });
    }

    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    const env = {
      ...faultAppEnv({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, dnsServer: dns.server, journalDomain: JOURNAL_DOMAIN, maxMessageSize: CORPUS_SIZE_LIMIT }),
      SMTP_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS),
    };
    [ingest, scanner] = await startFaultApps(env, ports);
  });

  afterAll(async () => {
    await Promise.all([ingest?.stop(), scanner?.stop()]);
    await Promise.all([sink.stop(), dns.stop()]);
    await redis?.cleanup();
    await db?.drop();
  });

  it('should answer every malformed message with the right reply, store what it accepts and scan or deliver it', async () => {
    const replies: Record<string, string[]> = { gateway: [], journal: [] };
    for (const item of MALFORMED_CORPUS) {
      const messageId = corpusMessageId(item.name);
      const report = buildMicrosoftJournalReport({ journalAddress, sender: SENDER, subject: `corpus ${item.name}`, messageId, to: ['bob@customer.example'], original: item.message });
      const [gatewayReply, journalReply] = await Promise.all([sendMessage(ports.gatewaySmtp, GATEWAY_RECIPIENT, item.message), sendMessage(ports.journalSmtp, journalAddress, report)]);
      replies.gateway!.push(gatewayReply);
      replies.journal!.push(journalReply);
      expect({ case: item.name, gateway: gatewayReply, journal: journalReply }).toEqual({
        case: item.name,
        gateway: expect.stringMatching(EXPECTED_REPLY[item.gateway]),
        journal: expect.stringMatching(EXPECTED_REPLY[item.journal]),
      });
    }

    for (const item of MALFORMED_CORPUS) {
      const messageId = corpusMessageId(item.name);
      const [atGateway, atJournal] = await Promise.all([storedByMessageId(gatewayAccount.id, messageId), storedByMessageId(journalAccount.id, messageId)]);
      expect({ case: item.name, gateway: atGateway.length, journal: atJournal.length }).toEqual({
        case: item.name,
        gateway: item.gateway === 'accepted' ? 1 : 0,
        journal: item.journal === 'accepted' ? 1 : 0,
      });
      if (item.journal === 'accepted') {
        // The original is stored byte for byte as the report carried it, then scanned by the worker.
        const raw = await db.prisma.rawMessage.findUniqueOrThrow({ where: { id: atJournal[0]!.rawMessageId } });
        expect({ case: item.name, exact: Buffer.from(raw.content).equals(item.message) }).toEqual({ case: item.name, exact: true });
        const scanned = await waitFor(async () => {
          const [row] = await storedByMessageId(journalAccount.id, messageId);
          return row && row.scanStatus !== 'PENDING' ? row : null;
        }, `the journal copy of ${item.name} to be scanned`);
        // Monitor-only: the decision is recorded, nothing is applied.
        expect({ case: item.name, status: scanned.scanStatus, decided: scanned.verdicts.map((verdict) => [verdict.decidedAction, verdict.appliedAction]) }).toEqual({
          case: item.name,
          status: 'SCANNED',
          decided: [[item.keyword ? 'QUARANTINE' : 'DELIVER', null]],
        });
      }
      if (item.gateway === 'accepted') {
        // The gateway stores what it relays: the bytes received, bare line ends normalised (DESIGN.md §10).
        const received = asReceived(item.message);
        const expected = hasBareCrOrLf(received) ? normalizeLineEnds(received) : received;
        const raw = await db.prisma.rawMessage.findUniqueOrThrow({ where: { id: atGateway[0]!.rawMessageId } });
        expect({ case: item.name, exact: Buffer.from(raw.content).equals(expected) }).toEqual({ case: item.name, exact: true });
        expect({ case: item.name, applied: atGateway[0]!.verdicts.map((verdict) => verdict.appliedAction) }).toEqual({ case: item.name, applied: [item.keyword ? 'QUARANTINE' : 'DELIVER'] });
        if (item.keyword) {
          expect({ case: item.name, state: atGateway[0]!.deliveryState, held: await db.prisma.quarantineItem.count({ where: { messageId: atGateway[0]!.id, status: 'HELD' } }) }).toEqual({
            case: item.name,
            state: 'QUARANTINED',
            held: 1,
          });
          continue;
        }
        const delivered = await waitFor(async () => {
          const row = await db.prisma.message.findUnique({ where: { id: atGateway[0]!.id } });
          return row && ['DELIVERED', 'FAILED'].includes(row.deliveryState) ? row : null;
        }, `the gateway copy of ${item.name} to be delivered`);
        expect({ case: item.name, state: delivered.deliveryState }).toEqual({ case: item.name, state: 'DELIVERED' });
        const copy = sink.received.find((message) => message.raw.includes(messageId))?.raw;
        expect({ case: item.name, relayedIntact: copy !== undefined && copy.subarray(copy.length - expected.length).equals(expected) }).toEqual({ case: item.name, relayedIntact: true });
      }
    }
    console.log(`bad-input corpus: ${MALFORMED_CORPUS.length} cases; gateway ${tally(replies.gateway!)}; journal ${tally(replies.journal!)}`);
  }, 120_000);

  it('should refuse a journal delivery whose wrapper is damaged with 554 5.6.0 and store nothing', async () => {
    const replies: string[] = [];
    for (const item of DAMAGED_WRAPPERS) {
      const messageId = `<wrapper-${item.name}@fault.example>`;
      const original = Buffer.from(`Message-ID: ${messageId}\r\nFrom: ${SENDER}\r\nSubject: ${item.name}\r\n\r\nbody\r\n`);
      const report = buildMicrosoftJournalReport({ journalAddress, sender: SENDER, subject: item.name, messageId, to: ['bob@customer.example'], original });
      const reply = await sendMessage(ports.journalSmtp, journalAddress, item.damage(report));
      replies.push(reply);
      expect({ case: item.name, reply }).toEqual({ case: item.name, reply: expect.stringMatching(EXPECTED_REPLY[item.journal]) });
      expect(await db.prisma.message.count({ where: { messageIdHeader: messageId } })).toBe(0);
    }
    console.log(`bad-input damaged journal wrappers: ${DAMAGED_WRAPPERS.length} cases; journal ${tally(replies)}`);
  });

  describe('SMTP protocol abuse', () => {
    const summary: string[] = [];
    afterAll(() => console.log(`bad-input protocol abuse: ${summary.join('; ')}`));

    it.each(['journal', 'gateway'])('%s: should answer a pipelined flood of RCPT and NOOP in order, then take a good message on the same connection', async (name) => {
      await inSession(name, async (session, target) => {
        expect(await session.command('EHLO client.sender.example')).toMatch(/^250-.*\r\n(250-.*\r\n)*250[ -]/s);
        const flood = [`MAIL FROM:<${SENDER}>`, ...Array(300).fill(`RCPT TO:<${target.recipient}>`), ...Array(300).fill('NOOP'), 'RSET'];
        session.write(flood.map((line) => `${line}\r\n`).join(''));
        const replies = await session.replies(flood.length);
        summary.push(`${name} flood of ${flood.length} commands: ${tally(replies)}`);
        expect(replies).toHaveLength(flood.length);
        expect(replies[0]).toMatch(/^250 /);
        // RFC 5321 4.5.3.1.8: at least 100 recipients must be taken; more may get 452 (too many recipients).
        expect(replies.slice(1, 101).every((reply) => reply.startsWith('250'))).toBe(true);
        expect(replies.slice(101, 301).every((reply) => /^(250|452)/.test(reply))).toBe(true);
        expect(replies.slice(301).every((reply) => reply.startsWith('250'))).toBe(true);

        const messageId = `<flood-after-${name}@fault.example>`;
        const { payload } = payloadFor(name, messageId, 'after the flood');
        expect(codes(await beginData(session, target.recipient, { ehlo: false }))).toEqual(['250', '250', '354']);
        session.write(dotStuff(payload));
        expect(await session.command('.')).toMatch(/^250 /);
        expect(await db.prisma.message.count({ where: { messageIdHeader: messageId } })).toBe(1);
      });
    });

    it.each(['journal', 'gateway'])('%s: should answer commands out of order with 503 and keep the session usable', async (name) => {
      await inSession(name, async (session, target) => {
        const replies = {
          mailBeforeEhlo: await session.command(`MAIL FROM:<${SENDER}>`),
          ehlo: await session.command('EHLO client.sender.example'),
          dataFirst: await session.command('DATA'),
          rcptBeforeMail: await session.command(`RCPT TO:<${target.recipient}>`),
          mail: await session.command(`MAIL FROM:<${SENDER}>`),
          dataBeforeRcpt: await session.command('DATA'),
          secondMail: await session.command(`MAIL FROM:<${SENDER}>`),
          rcpt: await session.command(`RCPT TO:<${target.recipient}>`),
          rset: await session.command('RSET'),
          dataAfterRset: await session.command('DATA'),
          quit: await session.command('QUIT'),
        };
        summary.push(`${name} out of order: ${tally(Object.values(replies))}`);
        // RFC 5321 4.1.4 and 4.3.2: 503 "bad sequence of commands" for each command that comes too early.
        expect(Object.fromEntries(Object.entries(replies).map(([step, reply]) => [step, reply.slice(0, 3)]))).toEqual({
          mailBeforeEhlo: '503',
          ehlo: '250',
          dataFirst: '503',
          rcptBeforeMail: '503',
          mail: '250',
          dataBeforeRcpt: '503',
          secondMail: '503',
          rcpt: '250',
          rset: '250',
          dataAfterRset: '503',
          quit: '221',
        });
      });
    });

    it.each(['journal', 'gateway'])('%s: should take a 600-octet command line, and answer a line over its 16 KiB buffer with 421 and close', async (name) => {
      await inSession(name, async (session) => {
        await session.command('EHLO client.sender.example');
        // RFC 5321 4.5.3.1.4: 512 octets is what a server must at least accept, and 4.5.3.1 asks for no limits
        // where possible: a longer line is read, not refused.
        const noop = await session.command(`NOOP ${'x'.repeat(600)}`);
        const overlong = await session.command(`NOOP ${'y'.repeat(20 * 1024)}`);
        await session.closed;
        summary.push(`${name} overlong command lines: ${tally([noop, overlong])}`);
        expect(noop).toMatch(/^250 /);
        // Past the buffer the line cannot be read to its end: 421 (closing the channel, RFC 5321 3.8) and close.
        expect(overlong).toMatch(/^421 .*too long/i);
      });
    });

    it.each(['journal', 'gateway'])('%s: should store a text line over 1000 octets unchanged', async (name) => {
      const target = targets().find((entry) => entry.name === name)!;
      const messageId = `<long-line-${name}@fault.example>`;
      // RFC 5321 4.5.3.1.6: 1000 octets is a floor a server must accept; refusing more is allowed, rewriting is
      // not (it would break DKIM body hashes). The product takes it and keeps the line whole.
      const { original, payload } = payloadFor(name, messageId, 'long line', `${'z'.repeat(5000)}\r\n`);
      const reply = await sendMessage(target.port, target.recipient, payload);
      summary.push(`${name} 5000-octet text line: ${replyClass(reply)}`);
      expect(reply).toMatch(/^250 /);
      const [stored] = await db.prisma.message.findMany({ where: { messageIdHeader: messageId } });
      const raw = await db.prisma.rawMessage.findUniqueOrThrow({ where: { id: stored!.rawMessageId } });
      expect(Buffer.from(raw.content).equals(original)).toBe(true);
    });

    const SMUGGLES = { 'LF.LF': '\n.\n', 'CRLF.LF': '\r\n.\n', 'LF.CRLF': '\n.\r\n', 'CR.CR': '\r.\r' };

    it.each(['journal', 'gateway'])('%s: should never end DATA at a bare-LF or bare-CR dot line (no smuggled second message)', async (name) => {
      const target = targets().find((entry) => entry.name === name)!;
      const dataReplies: string[] = [];
      for (const [label, terminator] of Object.entries(SMUGGLES)) {
        const carrierId = `<smuggle-carrier-${name}-${label}@fault.example>`;
        const smuggledId = `<smuggled-${name}-${label}@evil.example>`;
        const smuggled = `MAIL FROM:<mallory@evil.example>\r\nRCPT TO:<${target.recipient}>\r\nDATA\r\nMessage-ID: ${smuggledId}\r\nX-Gm-Original-To: bob@customer.example\r\nSubject: smuggled\r\n\r\nevil\r\n`;
        const carrier = `X-Gm-Original-To: bob@customer.example\r\nMessage-ID: ${carrierId}\r\nFrom: ${SENDER}\r\nSubject: carrier\r\n\r\nhello${terminator}${smuggled}`;
        const { client: session } = await RawSmtp.open(target.port);
        try {
          expect(codes(await beginData(session, target.recipient))).toEqual(['250', '250', '250', '354']);
          session.write(carrier);
          // Exactly one reply to the whole payload, after the real CRLF.CRLF; no reply to the smuggled commands.
          const reply = await session.command('.');
          dataReplies.push(reply);
          expect({ label, reply }).toEqual({ label, reply: expect.stringMatching(/^250 /) });
          expect(await session.command('QUIT')).toMatch(/^221 /);
        } finally {
          session.close();
        }
        expect({ label, carrier: await db.prisma.message.count({ where: { messageIdHeader: carrierId } }), smuggled: await db.prisma.message.count({ where: { messageIdHeader: smuggledId } }) }).toEqual({
          label,
          carrier: 1,
          smuggled: 0,
        });
      }
      summary.push(`${name} smuggling (${Object.keys(SMUGGLES).join(', ')}): ${tally(dataReplies)}`);
    });

    it.each(['journal', 'gateway'])('%s: should answer garbage bytes with errors and close, accepting nothing', async (name) => {
      await inSession(name, async (session) => {
        session.write(pseudoRandomBytes(8 * 1024, 0x5eed));
        await within(session.closed, 10_000);
        const replies = await session.replies(1_000);
        summary.push(`${name} 8 KB garbage: ${tally(replies)}${session.isClosed ? ', closed' : ''}`);
        // 500 per unrecognised line, 421 "too many unrecognized commands" or "too long" at the end.
        expect(replies.length).toBeGreaterThan(0);
        expect(replies.every((reply) => /^(500|501|503|421)/.test(reply))).toBe(true);
        expect(session.isClosed).toBe(true);
      });
    });

    it.each(['journal', 'gateway'])('%s: should store nothing and answer nothing when the client disconnects mid-DATA', async (name) => {
      const target = targets().find((entry) => entry.name === name)!;
      const messageId = `<cut-mid-data-${name}@fault.example>`;
      const { payload } = payloadFor(name, messageId, 'cut', 'half a message\r\n'.repeat(200));
      const { client: session } = await RawSmtp.open(target.port);
      expect(codes(await beginData(session, target.recipient))).toEqual(['250', '250', '250', '354']);
      session.write(payload.subarray(0, Math.floor(payload.length / 2)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const late = await session.reply(300).catch(() => 'none');
      session.close();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      summary.push(`${name} cut mid-DATA: reply ${late}`);
      expect(late).toBe('none');
      expect(await db.prisma.message.count({ where: { messageIdHeader: messageId } })).toBe(0);
    });
  });

  describe('slow clients', () => {
    it.each(['journal', 'gateway'])('%s: should close silent and trickling connections after the socket timeout while a normal client gets through', async (name) => {
      const target = targets().find((entry) => entry.name === name)!;
      // 30 connections from five client addresses: 15 silent, 10 trickling a command line (3 of them over
      // STARTTLS), 5 trickling DATA.
      const opened = await Promise.all(Array.from({ length: 30 }, (_, index) => RawSmtp.open(target.port, `127.0.0.${10 + (index % 5)}`)));
      expect(opened.every(({ greeting }) => greeting.startsWith('220 '))).toBe(true);
      const sessions = opened.map(({ client }) => client);
      const silent = sessions.slice(0, 15);
      const inCommand = sessions.slice(15, 25);
      const inData = sessions.slice(25);
      for (const session of inCommand.slice(0, 3)) {
        await session.command('EHLO client.sender.example');
        await session.startTls();
      }
      for (const session of inData) {
        expect(codes(await beginData(session, target.recipient))).toEqual(['250', '250', '250', '354']);
      }
      // One byte a second of a line that never ends.
      const tricklers = [...inCommand, ...inData].map((session) => setInterval(() => session.write('E'), 1_000));
      const started = Date.now();
      try {
        const messageId = `<past-slow-${name}@fault.example>`;
        const { payload } = payloadFor(name, messageId, 'past the slow clients');
        expect(await sendMessage(target.port, target.recipient, payload)).toMatch(/^250 /);

        // Generous bound: a few timeouts plus scheduling slack, far below the test timeout.
        const bound = SOCKET_TIMEOUT_MS * 10;
        await within(Promise.all(sessions.map((session) => session.closed)), bound);
        const closed = (group: RawSmtp[]) => group.filter((session) => session.isClosed).length;
        const lastReplies = await Promise.all(sessions.map((session) => session.reply(100).catch(() => 'none')));
        console.log(
          `bad-input slow clients (${name}): silent closed ${closed(silent)}/15, trickling a command closed ${closed(inCommand)}/10, trickling DATA closed ${closed(inData)}/5, ` +
            `last replies ${tally(lastReplies)}, all within ${Date.now() - started} ms`,
        );
        expect([closed(silent), closed(inCommand), closed(inData)]).toEqual([15, 10, 5]);
        // A 421 before the close (RFC 5321 3.8), or a plain close.
        expect(lastReplies.every((reply) => /^421 /.test(reply) || reply === '')).toBe(true);
        // Nothing that trickled into DATA was taken as a message.
        expect(await db.prisma.message.count({ where: { accountId: name === 'journal' ? journalAccount.id : gatewayAccount.id, subject: null } })).toBe(0);
      } finally {
        tricklers.forEach(clearInterval);
        sessions.forEach((session) => session.close());
      }
    });
  });

  it('should leave both processes running and healthy', async () => {
    expect([ingest.child.exitCode, ingest.child.signalCode, scanner.child.exitCode, scanner.child.signalCode]).toEqual([null, null, null, null]);
    const [journalHealth, gatewayHealth] = await Promise.all([getHealth(`http://127.0.0.1:${ports.journalHttp}`), getHealth(`http://127.0.0.1:${ports.gatewayHttp}`)]);
    expect([journalHealth.status, gatewayHealth.status]).toEqual([200, 200]);
    expect(`${ingest.output()}\n${scanner.output()}`).not.toMatch(/uncaught|unhandled|FATAL/i);
  });
});
