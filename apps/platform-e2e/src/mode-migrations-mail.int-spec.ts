import { Logger, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '@mailwarden/config';
import { DbModule, type Account, type Domain, type MigrationKind } from '@mailwarden/db';
import { readProcessedMarks } from '@mailwarden/delivery';
import { ModeMigrationRunner, ModeMigrationsModule, type PlanMigrationInput } from '@mailwarden/mode-migrations';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { buildMicrosoftJournalReport, buildOriginal, createTestDatabase, createTestRedis, freePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
// The journal path is only whole with the ingest running beside the scanner.
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: runs the real journal-ingest module beside the scanner
import { createJournalIngest } from '../../journal-ingest/src/journal-ingest.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the scanner under test
import { createScanner } from '../../scanner/src/scanner.app';

/**
 * Issue 13 §2: mail sent continuously through the journal ingest and the gateway while an account walks all six
 * plans (monitor-only -> gateway -> mailflow -> gateway -> monitor-only -> mailflow -> monitor-only), with the
 * world (MX, the Exchange transport rule, the journal rule) changed as an admin would at each manual step. No
 * reply is a 5xx, every message reaches its mailbox, and no message is scanned by two modes.
 */
const HOST = 'mx.mailwarden.test';
const CONNECTOR = '127.0.0.4';
const JOURNAL_DOMAIN = 'journal.mailwarden.test';
const DOMAIN = 'moving.example';
const EDGE = 'from mail.sender.example (192.0.2.25) by AM0EUR02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server; Wed, 25 Nov 2026 10:00:00 +0000';

jest.setTimeout(240_000);

interface World {
  /** Where the domain's MX points. */
  mx: 'provider' | 'mailwarden';
  /** The Exchange transport rule routes the domain's mail through the Mailwarden connector. */
  connectorRoutes: boolean;
  /** The journal rule sends journal reports to the account's journal address. */
  journalRule: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const messageIdOf = (raw: Buffer) => /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))?.[1] ?? '';

describe('mode migrations under continuous mail (six plans)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication;
  let ingest: INestApplication;
  let runnerContext: INestApplicationContext;
  let runner: ModeMigrationRunner;
  let mailbox: SMTPServer;
  let gatewayPort: number;
  let journalPort: number;
  let account: Account;
  let domain: Domain;
  const world: World = { mx: 'provider', connectorRoutes: false, journalRule: true };
  let currentStep = 'before';

  /** Every SMTP reply the senders got (gateway, connector, journal), with what was sent. */
  const replies: Array<{ path: string; code: number; text: string; messageId: string; step: string }> = [];
  const sent = new Map<string, string>(); // Message-ID -> step it was sent during
  const delivered = new Map<string, number>(); // Message-ID -> deliveries to the mailbox
  const inFlight = new Set<Promise<unknown>>();

  const zone = new ZoneDnsResolver({
    'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 ip4:192.0.2.0/24 -all'] },
    '_dmarc.sender.example': { TXT: ['v=DMARC1; p=none'] },
  });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  /** One SMTP transaction; retries a 4xx as a sending MTA would, records every reply. */
  async function smtp(path: string, port: number, localAddress: string, envelope: { from: string; to: string[] }, raw: Buffer): Promise<void> {
    const messageId = messageIdOf(raw);
    for (let attempt = 0; attempt < 60; attempt++) {
      const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, localAddress, name: 'client.sender.example' });
      try {
        const info = await transport.sendMail({ envelope, raw });
        replies.push({ path, code: Number(info.response.slice(0, 3)), text: info.response, messageId, step: currentStep });
        return;
      } catch (error) {
        const { responseCode, response } = error as { responseCode?: number; response?: string };
        replies.push({ path, code: responseCode ?? 0, text: response ?? String(error), messageId, step: currentStep });
        if (responseCode !== undefined && responseCode >= 500) {
          return; // a bounce: the assertions report it
        }
        await sleep(250);
      } finally {
        transport.close();
      }
    }
  }

  /** Microsoft 365 receiving the domain's mail (from the internet or from Mailwarden's relay). */
  async function tenantReceives(raw: Buffer, recipient: string): Promise<void> {
    const fromMailwarden = readProcessedMarks(raw).length > 0;
    if (world.connectorRoutes && !fromMailwarden) {
      // The transport rule routes it through Mailwarden (its exception: mail already carrying our mark).
      await smtp('connector', gatewayPort, CONNECTOR, { from: 'alice@sender.example', to: [recipient] }, raw);
      return;
    }
    delivered.set(messageIdOf(raw), (delivered.get(messageIdOf(raw)) ?? 0) + 1);
    if (world.journalRule) {
      const report = buildMicrosoftJournalReport({
        journalAddress: `${account.journalToken}@${JOURNAL_DOMAIN}`,
        sender: 'alice@sender.example',
        subject: 'journal',
        messageId: messageIdOf(raw),
        to: [recipient],
        original: raw,
      });
      await smtp('journal', journalPort, '127.0.0.1', { from: 'journal@customer.onmicrosoft.com', to: [`${account.journalToken}@${JOURNAL_DOMAIN}`] }, report);
    }
  }

  function track(work: Promise<unknown>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  /** The internet: one message every 120 ms, to wherever the domain's MX points. */
  let sending = false;
  let counter = 0;
  async function sender(): Promise<void> {
    while (sending) {
      const id = `<m${++counter}@sender.example>`;
      const recipient = `user${counter % 3}@${DOMAIN}`;
      sent.set(id, currentStep);
      const original = buildOriginal({ from: 'alice@sender.example', to: [recipient], subject: `continuous ${counter}`, messageId: id });
      if (world.mx === 'mailwarden') {
        track(smtp('gateway', gatewayPort, '127.0.0.1', { from: 'alice@sender.example', to: [recipient] }, original));
      } else {
        // Straight to Exchange Online, whose inbound edge writes its Received field.
        track(tenantReceives(Buffer.concat([Buffer.from(`Received: ${EDGE}\r\n`), original]), recipient));
      }
      await sleep(120);
    }
  }

  /** What the admin does when a manual step waits. */
  const connectMailflow = async () => {
    // Registers the connector (as PUT /v1/accounts/{accountId}/mailflow-connector does) and the transport rule.
    await db.prisma.mailflowConnector.upsert({ where: { accountId: account.id }, create: { accountId: account.id, sourceIps: [`${CONNECTOR}/32`] }, update: {} });
    world.connectorRoutes = true;
  };
  const adminDoes: Record<string, () => unknown> = {
    'complete-gateway-setup': () => (world.mx = 'mailwarden'),
    'complete-mailflow-setup': connectMailflow,
    'connect-mailflow': connectMailflow,
    // MX still names Mailwarden, whose relays the transport rule exempts: the admin's own test message goes in at
    // Exchange Online and comes through the connector.
    'mailflow-quick-test': () => {
      const id = `<quick-test-${++counter}@sender.example>`;
      const original = buildOriginal({ from: 'alice@sender.example', to: [`admin@${DOMAIN}`], subject: 'quick test', messageId: id });
      sent.set(id, currentStep);
      track(tenantReceives(Buffer.concat([Buffer.from(`Received: ${EDGE}\r\n`), original]), `admin@${DOMAIN}`));
    },
    'remove-journal-rules': () => (world.journalRule = false),
    'complete-journal-setup': () => (world.journalRule = true),
    'restore-mail-routing': () => (domainModeAtPlan === 'GATEWAY' ? (world.mx = 'provider') : (world.connectorRoutes = false)),
    'remove-gateway-mx-records': () => (world.mx = 'provider'),
    'remove-mailflow-connectors': () => (world.connectorRoutes = false),
  };
  let domainModeAtPlan: Domain['mode'] = 'JOURNAL';
  const waitedSteps: string[] = [];

  async function walk(kind: MigrationKind, input: Partial<PlanMigrationInput> = {}): Promise<void> {
    domainModeAtPlan = (await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).mode;
    let migration = await runner.plan(account.id, { kind, quietPeriodSeconds: 1, ...input }, { actor: 'test', actorKeyId: null });
    const acted = new Set<string>();
    let retry = false;
    let acknowledge = false;
    for (let round = 0; round < 60; round++) {
      const actor = { actor: 'test', actorKeyId: null };
      // The admin acknowledges a step Mailwarden cannot check only after doing it.
      migration = retry ? await runner.retry(account.id, migration.id, actor) : await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: acknowledge });
      if (migration.status === 'COMPLETED') {
        return;
      }
      expect(migration.status).toBe('WAITING');
      const waiting = migration.steps.find((step) => step.status === 'WAITING_FOR_ADMIN')!;
      currentStep = `${kind}:${waiting.key}`;
      if (!waitedSteps.includes(currentStep)) {
        waitedSteps.push(currentStep);
      }
      // The admin reads the instruction and acts a moment later, while mail keeps flowing.
      await sleep(400);
      // The quick test is sent again while its step waits (the gateway learns a new connector within seconds).
      if (!acted.has(waiting.key) || waiting.key === 'mailflow-quick-test') {
        acted.add(waiting.key);
        await adminDoes[waiting.key]?.();
      }
      await sleep(400);
      // A wait that saw the old path still in use starts again (retry restarts the step).
      const result = waiting.result as { available?: boolean; evidence?: { lastSeenMessageId?: string | null } } | null;
      retry = !!result?.evidence?.lastSeenMessageId;
      acknowledge = result?.available === false;
    }
    throw new Error(
      `${kind} did not complete: ${JSON.stringify(migration.steps.map((step) => [step.key, step.status, step.result]))}; last replies: ${JSON.stringify(replies.slice(-6))}; world ${JSON.stringify(world)}`,
    );
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    const factories = new TestFactories(db.prisma);
    mailbox = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          // Read the envelope before answering: the reply resets it for the next transaction.
          const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
          callback();
          for (const recipient of recipients) {
            track(tenantReceives(Buffer.concat(chunks), recipient));
          }
        });
      },
    });
    mailbox.on('error', () => undefined);
    const mailboxPort = await freePort();
    await new Promise<void>((resolve) => mailbox.listen(mailboxPort, '127.0.0.1', resolve));

    account = await factories.newAccount({ monitorOnly: true });
    domain = await factories.newDomain(account, { name: DOMAIN, mode: 'JOURNAL', downstreamHost: '127.0.0.1', downstreamPort: mailboxPort });
    await db.prisma.domain.update({ where: { id: domain.id }, data: { downstreamRequireTls: false, downstreamVerifyCert: false } });

    gatewayPort = await freePort();
    journalPort = await freePort();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, LOG_LEVEL: 'fatal', SMTP_HOSTNAME: HOST };
    scanner = await createScanner(
      loadConfig('scanner', { ...env, SCANNER_SMTP_PORT: String(gatewayPort), SCANNER_HTTP_PORT: String(await freePort()), JOURNAL_HTTP_PORT: String(await freePort()) }),
      false,
      { dnsLookup, delivery: { initialRetryDelayMs: 200, maxRetryDelayMs: 1_000, timeoutMs: 5_000 } },
    );
    await scanner.init();
    ingest = await createJournalIngest(loadConfig('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(journalPort), JOURNAL_HTTP_PORT: String(await freePort()) }), false, { dnsLookup });
    await ingest.init();
    runnerContext = await NestFactory.createApplicationContext(
      {
        module: class RunnerModule {},
        imports: [
          DbModule.forRoot({ databaseUrl: db.url, poolSize: 4 }),
          ModeMigrationsModule.forRoot({
            journalDomain: JOURNAL_DOMAIN,
            // MX as the world has it: Mailwarden's host, or Exchange Online's.
            resolveDns: async (name) => {
              if (name !== DOMAIN) {
                throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
              }
              return [{ exchange: world.mx === 'mailwarden' ? HOST : 'moving-example.mail.protection.outlook.com', priority: 10 }];
            },
          }),
        ],
      },
      { logger: false },
    );
    runner = runnerContext.get(ModeMigrationRunner);
  });

  afterAll(async () => {
    sending = false;
    await runnerContext?.close();
    await ingest?.close();
    await scanner?.close();
    await new Promise<void>((resolve) => (mailbox ? mailbox.close(() => resolve()) : resolve()));
    await redis?.cleanup();
    await db?.drop();
  });

  it('should never answer 5xx, lose a message or scan one twice while walking every plan', async () => {
    sending = true;
    const loop = sender();
    await sleep(600);
    await walk('MONITOR_ONLY_TO_ADVANCED', { targetMode: 'GATEWAY', gatewayMxHost: HOST });
    await walk('GATEWAY_TO_MAILFLOW');
    await walk('MAILFLOW_TO_GATEWAY');
    await walk('ADVANCED_TO_MONITOR_ONLY');
    await walk('MONITOR_ONLY_TO_ADVANCED', { targetMode: 'MAILFLOW' });
    await walk('ADVANCED_TO_MONITOR_ONLY');
    currentStep = 'after';
    await sleep(600);
    sending = false;
    await loop;
    // Let every relay, connector round trip and journal report finish, then every journal scan.
    for (let round = 0; round < 100 && inFlight.size > 0; round++) {
      await Promise.allSettled([...inFlight]);
    }
    for (let round = 0; round < 600; round++) {
      const pending = await db.prisma.message.count({ where: { accountId: account.id, scanStatus: 'PENDING' } });
      const undelivered = [...sent.keys()].filter((id) => !delivered.has(id));
      if (pending === 0 && undelivered.length === 0) {
        break;
      }
      await sleep(100);
    }

    // Every step of every plan waited with mail flowing.
    expect(waitedSteps).toEqual(expect.arrayContaining(['MONITOR_ONLY_TO_ADVANCED:complete-gateway-setup', 'GATEWAY_TO_MAILFLOW:mailflow-quick-test', 'MAILFLOW_TO_GATEWAY:complete-gateway-setup']));
    expect(sent.size).toBeGreaterThan(50);
    // No bounce anywhere.
    expect(replies.filter((reply) => reply.code >= 500)).toEqual([]);
    expect(replies.filter((reply) => reply.code === 0)).toEqual([]);
    // Nothing lost: every message reached its mailbox, exactly once.
    expect([...sent.keys()].filter((id) => delivered.get(id) !== 1)).toEqual([]);
    // Nothing scanned by two modes; and everything scanned by one.
    const rows = await db.prisma.message.findMany({ where: { accountId: account.id }, select: { messageIdHeader: true, scanStatus: true, source: true, scanError: true, verdicts: { select: { skippedReason: true } } } });
    const scans = new Map<string, string[]>();
    for (const row of rows) {
      if (row.scanStatus === 'SCANNED') {
        scans.set(row.messageIdHeader!, [...(scans.get(row.messageIdHeader!) ?? []), row.source]);
      }
    }
    const twice = [...scans.entries()].filter(([, sources]) => sources.length > 1).map(([id, sources]) => `${id} sent during ${sent.get(id)}: ${sources.join(' + ')}`);
    expect(twice).toEqual([]);
    // A message not scanned is named with what each of its stored copies became (source, status, why).
    const copiesOf = (id: string) =>
      rows
        .filter((row) => row.messageIdHeader === id)
        .map((row) => `${row.source} ${row.scanStatus}${row.scanError ? ` (${row.scanError})` : ''}${row.verdicts[0]?.skippedReason ? ` [${row.verdicts[0].skippedReason}]` : ''}`)
        .join(' + ') || 'no stored copy';
    expect([...sent.keys()].filter((id) => !scans.has(id)).map((id) => `${id} sent during ${sent.get(id)}: ${copiesOf(id)}`)).toEqual([]);
    expect(await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).toMatchObject({ mode: 'JOURNAL', transitionMode: null });
  });
});
