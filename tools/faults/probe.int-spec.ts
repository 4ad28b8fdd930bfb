import type { Account } from '@mailwarden/db';
import {
  buildMicrosoftJournalReport,
  createTestDatabase,
  createTestRedis,
  dotStuff,
  FAULT_SENDER,
  faultAppEnv,
  freePort,
  RawSmtp,
  startAppProcess,
  startNxdomainDns,
  tally,
  TestFactories,
  type AppProcess,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';

const JOURNAL_DOMAIN = 'journal.probe.test';
const SIZE_LIMIT = 256 * 1024;
const STORED = /^250 2\.0\.0 Stored as ([0-9a-f-]{36})$/;

/**
 * The outside probe of issue 12, replayed against the real journal ingest and scanner processes: each case asserts
 * the reply and that nothing was lost or misfiled.
 */
describe('outside probe (journal ingest and scanner as processes)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let dns: Awaited<ReturnType<typeof startNxdomainDns>>;
  let ingest: AppProcess;
  let tenantA: Account;
  let tenantB: Account;
  const ports = { journalSmtp: 0, journalHttp: 0 };
  const journalAddressOf = (account: Account) => `${account.journalToken}@${JOURNAL_DOMAIN}`;
  const summary: string[] = [];

  /** A Microsoft 365 report of a small original for `account`'s journal address. */
  const reportFor = (account: Account, messageId: string, body = 'hello\r\n') => {
    const original = Buffer.from(`Message-ID: ${messageId}\r\nFrom: ${FAULT_SENDER}\r\nTo: bob@customer.example\r\nSubject: probe\r\n\r\n${body}`);
    return buildMicrosoftJournalReport({ journalAddress: journalAddressOf(account), sender: FAULT_SENDER, subject: 'probe', messageId, to: ['bob@customer.example'], original });
  };

  const storedFor = async (messageIdHeader: string) => {
    const rows = await db.prisma.message.findMany({ where: { messageIdHeader }, select: { id: true, accountId: true } });
    return rows.map((row) => ({ id: row.id, tenant: row.accountId === tenantA.id ? 'A' : row.accountId === tenantB.id ? 'B' : row.accountId }));
  };

  beforeAll(async () => {
    [db, redis, dns] = await Promise.all([createTestDatabase(), createTestRedis(), startNxdomainDns()]);
    const factories = new TestFactories(db.prisma);
    tenantA = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(tenantA, { name: 'tenant-a.example', mode: 'JOURNAL' });
    tenantB = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(tenantB, { name: 'tenant-b.example', mode: 'JOURNAL' });
    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    const env = faultAppEnv({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, dnsPort: dns.port, journalDomain: JOURNAL_DOMAIN, maxMessageSize: SIZE_LIMIT });
    ingest = await startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(ports.journalSmtp), JOURNAL_HTTP_PORT: String(ports.journalHttp) }, /app\.listening/);
  });

  afterAll(async () => {
    console.log(`outside probe: ${summary.join('; ')}`);
    await ingest?.stop();
    await dns?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  describe('tenant switches inside one connection (bug 1)', () => {
    /** Steps that name tenant A's journal address and then abandon that transaction, each its own way. */
    const SWITCHES: Record<string, (session: RawSmtp) => Promise<string[]>> = {
      RSET: async (session) => [await session.command('RSET')],
      EHLO: async (session) => [await session.command('EHLO again.sender.example')],
      HELO: async (session) => [await session.command('HELO again.sender.example')],
      STARTTLS: async (session) => {
        await session.startTls();
        return [await session.command('EHLO client.sender.example')];
      },
      '552': async (session) => {
        // DATA over the size limit ends tenant A's transaction with 552; its recipients must go with it.
        expect(await session.command('DATA')).toMatch(/^354/);
        session.write(dotStuff(reportFor(tenantA, '<oversized@probe.example>', `${'x'.repeat(998)}\r\n`.repeat(300))));
        return [await session.command('.')];
      },
    };

    it.each(Object.keys(SWITCHES))('should file the message only under tenant B after tenant A was named and dropped by %s', async (name) => {
      const messageId = `<switch-${name}@probe.example>`;
      const { client: session } = await RawSmtp.open(ports.journalSmtp);
      try {
        expect(await session.command('EHLO client.sender.example')).toMatch(/^250/);
        expect(await session.command(`MAIL FROM:<${FAULT_SENDER}>`)).toMatch(/^250/);
        expect(await session.command(`RCPT TO:<${journalAddressOf(tenantA)}>`)).toMatch(/^250/);
        const switched = await SWITCHES[name]!(session);
        expect(switched[switched.length - 1]).toMatch(name === '552' ? /^552 5\.3\.4/ : /^250/);
        expect(await session.command(`MAIL FROM:<${FAULT_SENDER}>`)).toMatch(/^250/);
        expect(await session.command(`RCPT TO:<${journalAddressOf(tenantB)}>`)).toMatch(/^250/);
        expect(await session.command('DATA')).toMatch(/^354/);
        session.write(dotStuff(reportFor(tenantB, messageId)));
        const reply = await session.command('.');
        summary.push(`tenant switch by ${name}: ${tally([reply])}`);
        expect(reply).toMatch(STORED);
        expect(await storedFor(messageId)).toEqual([{ id: STORED.exec(reply)![1], tenant: 'B' }]);
      } finally {
        session.close();
      }
      expect(await storedFor('<oversized@probe.example>')).toEqual([]);
    });
  });
});
