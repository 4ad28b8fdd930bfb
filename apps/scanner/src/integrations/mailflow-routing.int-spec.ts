import { Logger, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import type { Account, Domain, ModeMigrationWithSteps } from '@mailwarden/db';
import { readProcessedMarks } from '@mailwarden/delivery';
import { MailflowQuickTestService, QUICK_TEST_HOPS, type QuickTestHop } from '@mailwarden/microsoft365';
import { MailflowTamperQueue, MailflowTamperService, mailflowObjectNames, ModeMigrationRunner, type MailflowObjectNames } from '@mailwarden/mode-migrations';
import { QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { Queue } from 'bullmq';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { appTestEnv, createTestDatabase, createTestRedis, FakeExchangeOnlineSmtp, FakeMicrosoft365, freePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the admin API's side of libs/mode-migrations' own tests
import { startMailflowAutomation } from '../../../../libs/mode-migrations/test/mailflow-automation.context';
import { createScanner } from '../scanner.app';

/**
 * Issue 16: Microsoft 365 mailflow with mail really routed. The fake Exchange Online takes internet mail for the
 * tenant's domain, applies the transport rule, relays through the outbound connector to the real scanner, takes it
 * back on the inbound connector and delivers it into the mailbox its Graph serves. The quick test follows one
 * message over every hop and names the hop that failed; a loop cannot form even when the rule's exception is gone.
 */
const HOST = 'mx.mailwarden.test';
const DOMAIN = 'contoso.example';
/** Exchange Online's outbound address towards Mailwarden (the connector Mailwarden recognises). */
const EXCHANGE_OUT = '127.0.0.5';
/** The internet (and the quick test's sender): any address but the scanner's egress 127.0.0.1 (MAILFLOW_SCANNER_IP_RANGES). */
const INTERNET = '127.0.0.2';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Microsoft 365 mailflow through the fake Exchange Online and the real scanner', () => {
  const m365 = new FakeMicrosoft365();
  let exchange: FakeExchangeOnlineSmtp;
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication;
  let context: INestApplicationContext;
  let runner: ModeMigrationRunner;
  let quickTests: MailflowQuickTestService;
  let account: Account;
  let domain: Domain;
  let tenantId: string;
  let scannerPort: number;

  let names: MailflowObjectNames;
  let tamper: MailflowTamperService;
  /**
   * Puts the tenant's Exchange Online objects back as Mailwarden's plan created them (test 1): the parameters recorded
   * in `mailflow_object`, replayed through the cmdlets as an admin repairing them would.
   */
  const restoreObjects = async () => {
    const store = m365.exchange.store(tenantId);
    store.transportRules.splice(0);
    store.inboundConnectors.splice(0);
    store.outboundConnectors.splice(0);
    const recorded = await db.prisma.mailflowObject.findMany({ where: { accountId: account.id } });
    const cmdlet = { INBOUND_CONNECTOR: 'New-InboundConnector', OUTBOUND_CONNECTOR: 'New-OutboundConnector', TRANSPORT_RULE: 'New-TransportRule' } as Record<string, string>;
    for (const kind of ['OUTBOUND_CONNECTOR', 'INBOUND_CONNECTOR', 'TRANSPORT_RULE']) {
      for (const row of recorded.filter((candidate) => candidate.kind === kind)) {
        const created = m365.exchange.run(tenantId, cmdlet[kind]!, row.parameters as Record<string, unknown>).value[0] as { Guid: string };
        await db.prisma.mailflowObject.update({ where: { id: row.id }, data: { exchangeGuid: created.Guid } });
      }
    }
  };
  const rule = () => m365.exchange.rules(tenantId).find((candidate) => candidate.Name === names.rule)!;

  const zone = new ZoneDnsResolver({ 'sender.example': { TXT: ['v=spf1 -all'] } });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    await m365.start();
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    tenantId = m365.addTenant(['Mail.ReadWrite', 'User.Read.All', 'Group.Read.All', 'Exchange.ManageAsApp']);
    m365.consent(tenantId);
    m365.exchange.addAcceptedDomain(tenantId, DOMAIN);
    m365.addUser(tenantId, { userPrincipalName: `alice@${DOMAIN}` });
    m365.addUser(tenantId, { userPrincipalName: `bob@${DOMAIN}` });
    scannerPort = await freePort();
    exchange = new FakeExchangeOnlineSmtp(m365, undefined, {
      sendFrom: EXCHANGE_OUT,
      smartHostAddress: (host) => (host === HOST ? '127.0.0.1' : host),
      smartHostPort: (host) => (host === HOST ? scannerPort : 25),
      routeRetries: 20,
      routeRetryMs: 200,
    });
    await exchange.start();

    const factories = new TestFactories(db.prisma);
    account = await factories.newAccount({ monitorOnly: false });
    names = mailflowObjectNames(account.id);
    domain = await factories.newDomain(account, { name: DOMAIN, mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: exchange.connectorPort });
    await db.prisma.domain.update({ where: { id: domain.id }, data: { downstreamRequireTls: false, downstreamVerifyCert: false } });
    // As the directory sync leaves it: the tenant's mailboxes are known (the quick test picks the first one).
    await db.prisma.user.createMany({ data: [{ accountId: account.id, email: `alice@${DOMAIN}` }, { accountId: account.id, email: `bob@${DOMAIN}` }] });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test' } });
    await db.prisma.mailflowConnector.create({ data: { accountId: account.id, sourceIps: [`${EXCHANGE_OUT}/32`] } });
    await db.prisma.m365MailflowSettings.create({ data: { accountId: account.id, exchangeSmtpHost: '127.0.0.1', exchangeSmtpPort: exchange.inboundPort } });

    const m365Env = { M365_CLIENT_ID: m365.clientId, M365_CLIENT_SECRET: m365.clientSecret, M365_LOGIN_BASE_URL: m365.baseUrl, M365_GRAPH_BASE_URL: m365.baseUrl, M365_EXCHANGE_BASE_URL: m365.exchange.baseUrl };
    const config = loadConfig('scanner', await appTestEnv(db, redis, {
      SMTP_HOSTNAME: HOST,
      SCANNER_SMTP_PORT: String(scannerPort),
      MAILFLOW_QUICK_TEST_SOURCE_ADDRESS: INTERNET,
      ...m365Env,
    }));
    scanner = await createScanner(config, false, {
      dnsLookup,
      delivery: { initialRetryDelayMs: 200, maxRetryDelayMs: 1_000, timeoutMs: 5_000 },
      mailflow: { quickTestTimeoutMs: 15_000, quickTestPollMs: 200 },
    });
    await scanner.init();

    // The admin API's side: the runner with Exchange Online automated (16a's steps) and the Microsoft 365 module that
    // provides the quick test; its worker runs the queued Exchange steps and the tamper checks.
    context = await startMailflowAutomation({
      databaseUrl: db.url,
      redis,
      microsoft365: {
        app: { clientId: m365.clientId, credential: { kind: 'secret', clientSecret: m365.clientSecret }, loginBaseUrl: m365.baseUrl, graphBaseUrl: m365.baseUrl, exchangeBaseUrl: m365.exchange.baseUrl },
        secretsKey: '',
        graph: { sleep: async () => undefined },
        mailflowQuickTest: { hostname: HOST, timeoutMs: 15_000, pollMs: 200, localAddress: INTERNET },
      },
      options: {
        journalDomain: 'journal.mailwarden.test',
        resolveDns: async () => [{ exchange: 'contoso-example.mail.protection.outlook.com', priority: 10 }],
        mailflow: { scannerHost: HOST, certificateName: HOST, ipRanges: ['127.0.0.1/32'], arcSealDomain: null },
        tamperReconcileMs: 500,
      },
    });
    runner = context.get(ModeMigrationRunner);
    quickTests = context.get(MailflowQuickTestService);
    tamper = context.get(MailflowTamperService);
  });

  afterAll(async () => {
    await context?.close();
    await scanner?.close();
    await exchange?.stop();
    await m365.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  beforeEach(async () => {
    // As the plan's first step leaves it (and a cancelled plan keeps it): the connector path is open for the domain.
    const current = await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } });
    if (current.mode === 'GATEWAY') {
      await db.prisma.domain.update({ where: { id: domain.id }, data: { transitionMode: 'MAILFLOW' } });
    }
  });

  /** Runs one quick test inline (as the worker does) and returns it with its hops. */
  async function quickTest(recipient = `alice@${DOMAIN}`) {
    const created = await quickTests.create({ accountId: account.id, domainId: domain.id, domain: DOMAIN, recipient, requestedBy: 'test' });
    const finished = await quickTests.run(created.id);
    return { test: finished, hops: finished.hops as unknown as QuickTestHop[] };
  }

  async function sendFromInternet(messageId: string, to: string, extraHeaders: string[] = []): Promise<void> {
    const transport = createTransport({ host: '127.0.0.1', port: exchange.inboundPort, secure: false, ignoreTLS: true, name: 'mail.sender.example', localAddress: INTERNET });
    const raw = [...extraHeaders, 'From: <someone@sender.example>', `To: <${to}>`, 'Subject: hello', `Message-ID: ${messageId}`, `Date: ${new Date().toUTCString()}`, '', 'Hello.', ''].join('\r\n');
    try {
      await transport.sendMail({ envelope: { from: 'someone@sender.example', to: [to] }, raw });
    } finally {
      transport.close();
    }
  }

  it('should take the Gateway → Mailflow plan through a quick test that passes every hop, seen in order', async () => {
    const actor = { actor: 'test', actorKeyId: null };
    let migration: ModeMigrationWithSteps = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: HOST, quietPeriodSeconds: 0 }, actor);
    let quickTestStep = migration.steps.find((step) => step.key === 'mailflow-quick-test')!;
    for (let round = 0; round < 200 && quickTestStep.status !== 'DONE'; round++) {
      // Every step is automated or checked: no acknowledgement anywhere (queued Exchange steps run in the worker).
      migration = migration.steps.some((step) => step.status === 'RUNNING') ? await runner.get(account.id, migration.id) : await runner.advance(account.id, migration.id, actor);
      expect(migration.status).not.toBe('FAILED');
      quickTestStep = migration.steps.find((step) => step.key === 'mailflow-quick-test')!;
      if (quickTestStep.status !== 'DONE') {
        const waiting = quickTestStep.result as { evidence?: { status?: string }; message?: string } | null;
        expect([waiting?.evidence?.status, waiting?.message]).not.toContain('FAILED');
        await sleep(250);
      }
    }
    expect(quickTestStep.status).toBe('DONE');
    expect(migration.steps.every((step) => !(step.result as { acknowledgedByAdmin?: boolean } | null)?.acknowledgedByAdmin)).toBe(true);
    expect(m365.exchange.rules(tenantId).map((candidate) => [candidate.Name, candidate.Priority])).toEqual([[names.rule, 0]]);
    const evidence = (quickTestStep.result as unknown as { evidence: { hops: QuickTestHop[]; internetMessageId: string; recipient: string; status: string } }).evidence;
    expect(evidence.status).toBe('PASSED');
    expect(evidence.hops.map((hop) => [hop.hop, hop.status])).toEqual(QUICK_TEST_HOPS.map((hop) => [hop, 'passed']));
    const times = evidence.hops.map((hop) => hop.elapsedMs!);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(evidence.recipient).toBe(`alice@${DOMAIN}`);

    // What Exchange Online did with it: rule applied, routed to Mailwarden, taken back, excepted, delivered.
    const trace = exchange.traceOf(evidence.internetMessageId).map((entry) => entry.event);
    expect(trace).toEqual(['accepted', 'rule-matched', 'routed', 'accepted', 'rule-excepted', 'delivered']);
    const [alice] = m365.locateUser(tenantId, `alice@${DOMAIN}`);
    const delivered = m365.messagesOf(tenantId, alice!.id).filter((message) => message.internetMessageId === evidence.internetMessageId);
    expect(delivered).toHaveLength(1);
    expect(readProcessedMarks(delivered[0]!.raw!)).toHaveLength(1);
    // One scan, through the connector.
    const rows = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: evidence.internetMessageId } });
    expect(rows.map((row) => [row.source, row.scanStatus])).toEqual([['MAILFLOW', expect.not.stringMatching(/SKIPPED/)]]);
    // With the MX already at Exchange Online and no quiet period, the rest of the plan completes in the same call.
    migration = await runner.get(account.id, migration.id);
    expect(migration.status).toBe('COMPLETED');
    expect(await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).toMatchObject({ mode: 'MAILFLOW', transitionMode: null });
  });

  it('should name the hop that failed: recipient unknown to Exchange, rule disabled, inbound connector not matching', async () => {
    await restoreObjects();
    const unknown = await quickTest(`nobody@${DOMAIN}`);
    expect(unknown.test).toMatchObject({ status: 'FAILED', failedHop: 'accepted-by-exchange' });
    expect(unknown.hops[0]!.detail).toMatch(/5\.1\.10/);
    expect(unknown.hops.slice(1).map((hop) => hop.status)).toEqual(['not-reached', 'not-reached', 'not-reached']);

    m365.exchange.run(tenantId, 'Disable-TransportRule', { Identity: names.rule });
    const unrouted = await quickTest();
    expect(unrouted.test).toMatchObject({ status: 'FAILED', failedHop: 'scanned-by-mailwarden' });
    expect(unrouted.hops.find((hop) => hop.hop === 'scanned-by-mailwarden')!.detail).toMatch(/without passing Mailwarden/);
    expect(unrouted.hops[0]!.status).toBe('passed');

    await restoreObjects();
    m365.exchange.run(tenantId, 'Set-InboundConnector', { Identity: names.inbound, SenderIPAddresses: ['192.0.2.1'], TlsSenderCertificateName: 'someone-else.example' });
    const refusedBack = await quickTest();
    expect(refusedBack.test).toMatchObject({ status: 'FAILED', failedHop: 'relayed-to-exchange' });
    expect(refusedBack.hops.find((hop) => hop.hop === 'relayed-to-exchange')!.detail).toMatch(/5\.7\.51/);
    expect(refusedBack.hops.slice(0, 2).map((hop) => hop.status)).toEqual(['passed', 'passed']);
  });

  it('should stop a loop when the rule has no working exception: three passes at most, one scan, then 5.4.6', async () => {
    const misconfigurations = [
      () => Object.assign(rule(), { ExceptIfSenderIpRanges: [] }),
      () => m365.exchange.run(tenantId, 'Set-TransportRule', { Identity: names.rule, ExceptIfSenderIpRanges: ['192.0.2.0/24'] }),
    ];
    for (const misconfigure of misconfigurations) {
      await restoreObjects();
      misconfigure();
      const messageId = FakeExchangeOnlineSmtp.messageId();
      await sendFromInternet(messageId, `bob@${DOMAIN}`);
      const until = Date.now() + 30_000;
      while (!exchange.traceOf(messageId).some((entry) => entry.event === 'route-failed' || entry.event === 'delivered') && Date.now() < until) {
        await sleep(100);
      }
      const trace = exchange.traceOf(messageId);
      // Scanner: scanned once, then relayed twice as already processed; the fourth pass carries 3 marks and is refused.
      expect(trace.filter((entry) => entry.event === 'routed')).toHaveLength(3);
      expect(trace.at(-1)).toMatchObject({ event: 'route-failed', detail: expect.stringMatching(/554.*5\.4\.6/) });
      const rows = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: messageId }, orderBy: { receivedAt: 'asc' } });
      expect(rows.map((row) => row.scanStatus)).toEqual([expect.not.stringMatching(/SKIPPED/), 'SKIPPED', 'SKIPPED']);
      await sleep(500);
      expect(exchange.traceOf(messageId)).toHaveLength(trace.length); // nothing more moves
    }
  });

  it('should route internet mail that forges X-Mailwarden-Processed with the scanner host through Mailwarden all the same', async () => {
    await restoreObjects();
    const messageId = FakeExchangeOnlineSmtp.messageId();
    // What an attacker copies from any message Mailwarden delivered: the mark with the scanner's host name.
    await sendFromInternet(messageId, `bob@${DOMAIN}`, [`X-Mailwarden-Processed: ${HOST}; 3f0c3d4e-1111-4222-8333-944445555666`]);
    const until = Date.now() + 30_000;
    while (!exchange.traceOf(messageId).some((entry) => ['delivered', 'route-failed'].includes(entry.event)) && Date.now() < until) {
      await sleep(100);
    }
    // Exchange routed it to the scanner (the rule matched on the internet hop), took it back from the scanner's address.
    expect(exchange.traceOf(messageId).map((entry) => entry.event)).toEqual(['accepted', 'rule-matched', 'routed', 'accepted', 'rule-excepted', 'delivered']);
    expect(exchange.traceOf(messageId)[0]!.detail).toBe(`inbound from ${INTERNET}`);
    // Scanned (not waved through as already processed) before it reached the mailbox.
    const rows = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: messageId }, include: { verdicts: true } });
    expect(rows.map((row) => [row.source, row.scanStatus])).toEqual([['MAILFLOW', expect.not.stringMatching(/SKIPPED/)]]);
    expect(rows[0]!.verdicts.map((verdict) => verdict.recipient)).toEqual([`bob@${DOMAIN}`]);
    const [bob] = m365.locateUser(tenantId, `bob@${DOMAIN}`);
    const delivered = m365.messagesOf(tenantId, bob!.id).filter((message) => message.internetMessageId === messageId);
    expect(delivered).toHaveLength(1);
    // The scanner dropped the forged mark (it names no message of this account) and wrote its own.
    expect(readProcessedMarks(delivered[0]!.raw!).map((mark) => mark.messageId)).toEqual([expect.not.stringMatching(/^3f0c3d4e-/)]);
  });

  it('should scan internet mail that replays the X-Mailwarden-Processed mark of a real message of the tenant (a copied mark is no proof)', async () => {
    await restoreObjects();
    const delivered = async (messageId: string) => {
      const until = Date.now() + 30_000;
      while (!exchange.traceOf(messageId).some((entry) => ['delivered', 'route-failed'].includes(entry.event)) && Date.now() < until) {
        await sleep(100);
      }
    };
    // A real message of the tenant, delivered with its mark: what any recipient of the tenant's mail gets to see.
    const realId = FakeExchangeOnlineSmtp.messageId();
    await sendFromInternet(realId, `alice@${DOMAIN}`);
    await delivered(realId);
    const [alice] = m365.locateUser(tenantId, `alice@${DOMAIN}`);
    const copied = readProcessedMarks(m365.messagesOf(tenantId, alice!.id).find((message) => message.internetMessageId === realId)!.raw!)[0]!;
    expect(await db.prisma.message.findUnique({ where: { id: copied.messageId }, select: { accountId: true } })).toEqual({ accountId: account.id });

    // The attacker's own message with that mark: Exchange routes it to the scanner, which must scan it.
    const messageId = FakeExchangeOnlineSmtp.messageId();
    await sendFromInternet(messageId, `bob@${DOMAIN}`, [`X-Mailwarden-Processed: ${copied.host}; ${copied.messageId}`]);
    await delivered(messageId);
    const rows = await db.prisma.message.findMany({ where: { accountId: account.id, messageIdHeader: messageId }, include: { verdicts: true } });
    expect(rows.map((row) => [row.source, row.scanStatus])).toEqual([['MAILFLOW', expect.not.stringMatching(/SKIPPED/)]]);
    expect(rows[0]!.verdicts.map((verdict) => verdict.skippedReason)).toEqual([null]);
  });

  it('should detect a disabled connector and a changed rule priority in the scheduled check, alert once, change nothing, and clear when it matches again', async () => {
    await restoreObjects();
    const queue = new Queue(QueueName.MailflowTamperCheck, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    try {
      // The worker keeps a repeatable check per account with Mailwarden-created objects (reconciled every 500 ms here).
      let schedulers: string[] = [];
      for (let round = 0; round < 50 && !schedulers.includes(`mailflow-tamper-check:${account.id}`); round++) {
        await sleep(100);
        schedulers = (await queue.getJobSchedulers()).map((scheduler) => scheduler.key);
      }
      expect(schedulers).toContain(`mailflow-tamper-check:${account.id}`);
    } finally {
      await queue.close();
    }
    expect(await tamper.check(account.id)).toMatchObject({ status: 'HEALTHY', differences: [] });
    const alertsBefore = await db.prisma.mailflowAlert.count({ where: { accountId: account.id } });

    // Someone in the Exchange admin center: disables the outbound connector, puts a rule of their own first.
    m365.exchange.run(tenantId, 'Set-OutboundConnector', { Identity: names.outbound, Enabled: false });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'Tenant own rule', Priority: 0, SentTo: [`ceo@${DOMAIN}`], SetHeaderName: 'X-Vip', SetHeaderValue: '1' });
    expect(rule().Priority).toBe(1);
    const exchangeBefore = JSON.stringify(m365.exchange.store(tenantId));
    const cmdletsBefore = m365.exchange.invocations.filter((call) => !call.cmdlet.startsWith('Get-')).length;

    // Through the queue, as the schedule runs it.
    await context.get(MailflowTamperQueue).checkNow(account.id);
    const until = Date.now() + 20_000;
    let alerts = await db.prisma.mailflowAlert.findMany({ where: { accountId: account.id }, orderBy: { createdAt: 'asc' } });
    while (alerts.length === alertsBefore && Date.now() < until) {
      await sleep(100);
      alerts = await db.prisma.mailflowAlert.findMany({ where: { accountId: account.id }, orderBy: { createdAt: 'asc' } });
    }
    const detected = alerts.at(-1)!;
    expect(detected).toMatchObject({ kind: 'TAMPER_DETECTED', domains: [DOMAIN] });
    expect((detected.differences as Array<{ kind: string; problem: string; property: string; actual: unknown }>).map((d) => [d.kind, d.problem, d.property, d.actual])).toEqual([
      ['OUTBOUND_CONNECTOR', 'disabled', 'Enabled', false],
      ['TRANSPORT_RULE', 'priority-changed', 'Priority', 1],
    ]);
    expect(await db.prisma.domainMailflowStatus.findUniqueOrThrow({ where: { domainId: domain.id } })).toMatchObject({ status: 'DEGRADED' });
    expect(await db.prisma.auditEvent.count({ where: { objectId: detected.id, action: 'microsoft365.mailflow.tamper_detected' } })).toBe(1);
    expect(await db.prisma.outboxEvent.count({ where: { aggregateId: detected.id, topic: 'microsoft365.mailflow.alert' } })).toBe(1);
    // Nothing was "fixed": Exchange Online is as the admin left it, and no cmdlet but Get-* was sent.
    expect(JSON.stringify(m365.exchange.store(tenantId))).toBe(exchangeBefore);
    expect(m365.exchange.invocations.filter((call) => !call.cmdlet.startsWith('Get-')).length).toBe(cmdletsBefore);

    // The same state again: no second alert.
    expect((await tamper.check(account.id)).alert).toBeNull();
    // The admin repairs it: one TAMPER_CLEARED, the domain is HEALTHY again.
    m365.exchange.run(tenantId, 'Set-OutboundConnector', { Identity: names.outbound, Enabled: true });
    m365.exchange.run(tenantId, 'Set-TransportRule', { Identity: names.rule, Priority: 0 });
    const cleared = await tamper.check(account.id);
    expect(cleared).toMatchObject({ status: 'HEALTHY', alert: { kind: 'TAMPER_CLEARED', domains: [DOMAIN] } });
    expect(await db.prisma.domainMailflowStatus.findUniqueOrThrow({ where: { domainId: domain.id } })).toMatchObject({ status: 'HEALTHY', differences: [] });
    expect(await db.prisma.auditEvent.count({ where: { objectId: cleared.alert!.id, action: 'microsoft365.mailflow.tamper_cleared' } })).toBe(1);
  });

  it('should report a deleted rule and a weakened loop exception, and treat another tenant’s objects as none of its business', async () => {
    await restoreObjects();
    await tamper.check(account.id);
    // Widened to everyone: every internet sender would skip Mailwarden.
    m365.exchange.run(tenantId, 'Set-TransportRule', { Identity: names.rule, ExceptIfSenderIpRanges: ['0.0.0.0/0'] });
    m365.exchange.run(tenantId, 'Remove-InboundConnector', { Identity: names.inbound });
    // A second tenant with same-named objects changes nothing for this account.
    const other = m365.addTenant(undefined, true);
    m365.exchange.run(other, 'New-OutboundConnector', { Name: names.outbound, SmartHosts: ['elsewhere.example'], IsTransportRuleScoped: true });
    const outcome = await tamper.check(account.id);
    expect(outcome.differences.map((difference) => [difference.kind, difference.problem, difference.property])).toEqual([
      ['INBOUND_CONNECTOR', 'missing', null],
      ['TRANSPORT_RULE', 'changed', 'ExceptIfSenderIpRanges'],
    ]);
    expect(outcome.alert).toMatchObject({ kind: 'TAMPER_DETECTED' });
  });
});
