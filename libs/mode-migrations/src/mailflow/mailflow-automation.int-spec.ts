import { type INestApplicationContext, Logger } from '@nestjs/common';
import type { ModeMigrationWithSteps } from '@mailwarden/db';
import { DEFAULT_JOB_OPTIONS, JobQueue, JobQueues, JobWorkers, ModeMigrationStepJob, QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { createTestDatabase, createTestRedis, FakeMicrosoft365, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { ModeMigrationRunner } from '../migration-runner';
import { ModeMigrationQueue } from '../mode-migration.queue';
import { startMailflowAutomation } from '../../test/mailflow-automation.context';
import { MailflowTamperQueue } from './mailflow-tamper.queue';
import { mailflowObjectNames, ownershipMark, type MailflowAutomationSettings } from './mailflow-objects';

const actor = { actor: 'api-key:test', actorKeyId: null };
const settings: MailflowAutomationSettings = {
  scannerHost: 'mx-in.mailwarden.test',
  certificateName: 'relay.mailwarden.test',
  ipRanges: ['203.0.113.0/24'],
  arcSealDomain: 'arc.mailwarden.test',
};

describe('mailflow plans with Exchange Online automated (queued steps against the fake Exchange Online)', () => {
  const fake = new FakeMicrosoft365();
  let db: TestDatabase;
  let redis: TestRedis;
  let context: INestApplicationContext;
  let runner: ModeMigrationRunner;
  let factories: TestFactories;
  const mx = new Map<string, Array<{ exchange: string; priority: number }>>();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    await fake.start();
    db = await createTestDatabase();
    redis = await createTestRedis();
    factories = new TestFactories(db.prisma);
    context = await startMailflowAutomation({
      databaseUrl: db.url,
      redis,
      microsoft365: {
        app: { clientId: fake.clientId, credential: { kind: 'secret', clientSecret: fake.clientSecret }, loginBaseUrl: fake.baseUrl, graphBaseUrl: fake.baseUrl, exchangeBaseUrl: fake.exchange.baseUrl },
        secretsKey: Buffer.alloc(32, 7).toString('base64'),
        graph: { sleep: async () => undefined },
      },
      options: {
        journalDomain: 'journal.test',
        journalQuietPeriodMs: 0,
        resolveDns: async (name) => mx.get(name) ?? Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })),
        mailflow: settings,
      },
    });
    runner = context.get(ModeMigrationRunner);
  });

  afterAll(async () => {
    await context?.close();
    await redis?.cleanup();
    await db?.drop();
    await fake.stop();
  });

  /** Waits until the queued Exchange steps are done: no step RUNNING any more. */
  async function settled(accountId: string, migrationId: string): Promise<ModeMigrationWithSteps> {
    const until = Date.now() + 20_000;
    for (;;) {
      const migration = await runner.get(accountId, migrationId);
      if (!migration.steps.some((step) => step.status === 'RUNNING') || Date.now() > until) {
        return migration;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const step = (migration: ModeMigrationWithSteps, key: string) => migration.steps.find((candidate) => candidate.key === key)!;

  async function connectedAccount(domainName: string, mode: 'GATEWAY' | 'MAILFLOW' = 'GATEWAY') {
    const tenantId = fake.addTenant(undefined, true);
    fake.exchange.addAcceptedDomain(tenantId, domainName);
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: domainName, mode, downstreamHost: `${domainName}.mail.protection.outlook.com` });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test' } });
    return { tenantId, account, domain, names: mailflowObjectNames(account.id) };
  }

  async function gatewayToMailflow(account: { id: string }): Promise<ModeMigrationWithSteps> {
    const planned = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 0 }, actor);
    await runner.advance(account.id, planned.id, actor);
    return settled(account.id, planned.id);
  }

  it("should queue steps and tamper checks through the app's one JobQueues (its connection, prefix and job defaults)", () => {
    const queues = context.get(JobQueues);
    for (const producer of [context.get(ModeMigrationQueue, { strict: false }).jobs, context.get(MailflowTamperQueue, { strict: false }).jobs]) {
      expect(producer).toBe(queues.get(producer.name));
      expect(producer.queue.opts.prefix).toBe(redis.prefix);
      expect(producer.queue.defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS);
    }
    expect(context.get(JobWorkers).consumed().sort()).toEqual([QueueName.MailflowTamperCheck, QueueName.ModeMigration].sort());
  });

  it('should set up Gateway → Mailflow in Exchange Online itself: connectors, the rule at priority 0 with the loop exception, the ARC sealer', async () => {
    const { tenantId, account, names } = await connectedAccount('acme.example');
    fake.exchange.run(tenantId, 'Set-ArcConfig', { Identity: 'Default', ArcTrustedSealers: 'partner-sealer.example' });
    const planned = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 0 }, actor);
    expect(planned.steps.map((candidate) => candidate.key)).toEqual([
      'accept-mail-on-both-paths',
      'copy-microsoft-365-domains',
      'detect-mailflow-conflicts',
      'create-mailflow-connectors',
      'create-mailflow-rule',
      'trust-arc-sealer',
      'connect-mailflow',
      'mailflow-quick-test',
      'switch-domains-to-mailflow',
      'remove-gateway-mx-records',
      'wait-for-old-path-to-drain',
      'close-overlap-window',
    ]);
    const queued = await runner.advance(account.id, planned.id, actor);
    expect(step(queued, 'copy-microsoft-365-domains').status).toBe('RUNNING'); // queued, not run in the admin's call

    const waiting = await settled(account.id, planned.id);
    expect(waiting.steps.slice(0, 6).map((candidate) => candidate.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'DONE']);
    expect(step(waiting, 'connect-mailflow').status).toBe('WAITING_FOR_ADMIN');

    expect(fake.exchange.inboundConnectors(tenantId)).toEqual([
      expect.objectContaining({ Name: names.inbound, ConnectorType: 'Partner', SenderDomains: ['*'], RequireTls: true, TlsSenderCertificateName: 'relay.mailwarden.test', RestrictDomainsToCertificate: true, SenderIPAddresses: ['203.0.113.0/24'], Enabled: true }),
    ]);
    expect(fake.exchange.outboundConnectors(tenantId)).toEqual([
      expect.objectContaining({ Name: names.outbound, SmartHosts: ['mx-in.mailwarden.test'], UseMXRecord: false, TlsSettings: 'DomainValidation', TlsDomain: 'mx-in.mailwarden.test', IsTransportRuleScoped: true }),
    ]);
    expect(fake.exchange.rules(tenantId)).toEqual([
      expect.objectContaining({
        Name: names.rule,
        Priority: 0,
        State: 'Enabled',
        RecipientDomainIs: ['acme.example'],
        RouteMessageOutboundConnector: names.outbound,
        // Loop exception by the scanner's egress addresses only: no header exception anyone could forge.
        ExceptIfSenderIpRanges: ['203.0.113.0/24'],
        ExceptIfHeaderContainsMessageHeader: null,
        ExceptIfHeaderContainsWords: [],
      }),
    ]);
    expect(fake.exchange.arcConfig(tenantId).ArcTrustedSealers).toEqual(['partner-sealer.example', 'arc.mailwarden.test']);

    const recorded = await db.prisma.mailflowObject.findMany({ where: { accountId: account.id }, orderBy: { kind: 'asc' } });
    expect(recorded.map((row) => [row.kind, row.name, row.exchangeGuid !== null])).toEqual([
      ['ARC_TRUSTED_SEALER', 'arc.mailwarden.test', false],
      ['INBOUND_CONNECTOR', names.inbound, true],
      ['OUTBOUND_CONNECTOR', names.outbound, true],
      ['TRANSPORT_RULE', names.rule, true],
    ]);
    expect(recorded.find((row) => row.kind === 'TRANSPORT_RULE')!.exchangeGuid).toBe(fake.exchange.rules(tenantId)[0]!.Guid);
    expect(recorded.find((row) => row.kind === 'TRANSPORT_RULE')!.parameters).toMatchObject({ Priority: 0, RouteMessageOutboundConnector: names.outbound });

    // The rest of the plan as before: connector registered, mail through it, MX away, drained.
    await db.prisma.mailflowConnector.create({ data: { accountId: account.id, tlsCertName: 'mail.protection.outlook.com' } });
    expect(step(await runner.advance(account.id, planned.id, actor), 'mailflow-quick-test').status).toBe('WAITING_FOR_ADMIN');
    await factories.newMessage(account, { source: 'MAILFLOW', envelopeTo: ['ann@acme.example'] });
    mx.set('acme.example', [{ exchange: 'acme-example.mail.protection.outlook.com', priority: 0 }]);
    // With a Microsoft 365 connection the quick test is the real one through Exchange Online (issue 16c; no scanner
    // here to route it): the admin accepts the step's risk instead.
    const completed = await runner.advance(account.id, planned.id, actor, { acknowledgeRisk: true });
    expect(completed.status).toBe('COMPLETED');
    expect(await db.prisma.domain.findFirstOrThrow({ where: { accountId: account.id } })).toMatchObject({ mode: 'MAILFLOW', transitionMode: null });

    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: planned.id }, orderBy: { accountSeq: 'asc' } });
    expect(audit.filter((event) => event.action === 'mode_migration.step_queued').map((event) => (event.after as { step: string }).step)).toEqual([
      'copy-microsoft-365-domains',
      'detect-mailflow-conflicts',
      'create-mailflow-connectors',
      'create-mailflow-rule',
      'trust-arc-sealer',
    ]);
    expect(audit.filter((event) => event.action === 'mode_migration.step_completed').length).toBe(12);
  });

  it("should stop before creating anything when the tenant's own rules route, redirect or drop the domains' mail, with a readable report", async () => {
    const { tenantId, account, names } = await connectedAccount('conflict.example');
    fake.exchange.run(tenantId, 'New-OutboundConnector', { Name: 'Legacy filter', SmartHosts: ['filter.legacy.example'], IsTransportRuleScoped: true });
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Send to legacy filter', RecipientDomainIs: ['conflict.example'], RouteMessageOutboundConnector: 'Legacy filter' });
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'CEO to assistant', SentTo: ['ceo@conflict.example'], RedirectMessageTo: ['assistant@conflict.example'] });
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Disclaimer', SentToScope: 'NotInOrganization', SetHeaderName: 'X-Disclaimer', SetHeaderValue: '1' });
    const harmless = fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Old drop rule', RecipientDomainIs: ['conflict.example'], DeleteMessage: true, Enabled: false });
    expect(harmless.value).toHaveLength(1);
    const before = JSON.stringify(fake.exchange.rules(tenantId));

    const waiting = await gatewayToMailflow(account);
    expect(waiting.status).toBe('WAITING');
    const detect = step(waiting, 'detect-mailflow-conflicts');
    expect(detect.status).toBe('WAITING_FOR_ADMIN');
    const result = detect.result as { message: string; evidence: { conflicts: Array<{ kind: string; name: string; description: string }> } };
    expect(result.message).toMatch(/^Existing mail flow rules found: /);
    expect(result.evidence.conflicts.map((conflict) => [conflict.kind, conflict.name])).toEqual([
      ['transport-rule', 'Send to legacy filter'],
      ['transport-rule', 'CEO to assistant'],
    ]);
    expect(result.evidence.conflicts[0]!.description).toBe(
      "Transport rule 'Send to legacy filter' (priority 0) applies to mail for conflict.example and routes it through the outbound connector 'Legacy filter'.",
    );
    expect(result.evidence.conflicts[1]!.description).toContain('redirects it to assistant@conflict.example');
    // Nothing created, nothing of the tenant's touched.
    expect(fake.exchange.invocations.filter((call) => call.tenant === tenantId && /^(New|Set|Remove|Enable|Disable)-/.test(call.cmdlet))).toEqual([]);
    expect(JSON.stringify(fake.exchange.rules(tenantId))).toBe(before);
    expect(await db.prisma.mailflowObject.count({ where: { accountId: account.id } })).toBe(0);

    // Advancing again reads Exchange again and still waits; the admin fixes one rule and keeps the other knowingly.
    fake.exchange.run(tenantId, 'Disable-TransportRule', { Identity: 'Send to legacy filter' });
    const rechecked = await settled(account.id, (await runner.retry(account.id, waiting.id, actor)).id);
    const again = step(rechecked, 'detect-mailflow-conflicts').result as { evidence: { conflicts: Array<{ name: string }> } };
    expect(again.evidence.conflicts.map((conflict) => conflict.name)).toEqual(['CEO to assistant']);
    await runner.advance(account.id, waiting.id, actor, { acknowledgeRisk: true });
    const created = await settled(account.id, waiting.id);
    expect(step(created, 'detect-mailflow-conflicts').result).toMatchObject({ acknowledgedByAdmin: true, acknowledgedRisk: expect.stringContaining('priority 0') });
    expect(step(created, 'trust-arc-sealer').status).toBe('DONE');
    // Ours goes first; the tenant's rules keep their order and settings, one place down.
    expect(fake.exchange.rules(tenantId).map((rule) => `${rule.Priority}:${rule.Name}:${rule.State}`)).toEqual([
      `0:${names.rule}:Enabled`,
      '1:Send to legacy filter:Disabled',
      '2:CEO to assistant:Enabled',
      '3:Disclaimer:Enabled',
      '4:Old drop rule:Disabled',
    ]);
  });

  it('should adopt an object whose creation answer was lost (found by name, corrected, recorded) instead of failing or creating a twin', async () => {
    const { tenantId, account, names } = await connectedAccount('crash.example');
    // Exchange creates the outbound connector, but the answer never arrives (the process "crashed" mid-call).
    fake.exchange.inject({ cmdlet: 'New-OutboundConnector', status: 500, afterApply: true });
    const failed = await gatewayToMailflow(account);
    expect(failed.status).toBe('FAILED');
    expect(step(failed, 'create-mailflow-connectors')).toMatchObject({ status: 'FAILED', lastError: expect.stringContaining('New-OutboundConnector failed') });
    expect(fake.exchange.outboundConnectors(tenantId)).toHaveLength(1);
    // Recorded before it was created, so even now removal would know it (Guid still unknown).
    expect(await db.prisma.mailflowObject.findFirst({ where: { accountId: account.id, kind: 'OUTBOUND_CONNECTOR' } })).toMatchObject({ name: names.outbound, exchangeGuid: null });
    // Meanwhile someone changed it.
    fake.exchange.outboundConnectors(tenantId)[0]!.TlsSettings = 'EncryptionOnly';
    fake.exchange.outboundConnectors(tenantId)[0]!.TlsDomain = null;

    await runner.retry(account.id, failed.id, actor);
    const resumed = await settled(account.id, failed.id);
    expect(step(resumed, 'create-mailflow-connectors').status).toBe('DONE');
    expect(step(resumed, 'create-mailflow-connectors').result).toMatchObject({ inbound: { action: 'unchanged' }, outbound: { action: 'corrected', corrected: ['TlsSettings', 'TlsDomain'] } });
    expect(fake.exchange.outboundConnectors(tenantId)).toEqual([expect.objectContaining({ Name: names.outbound, TlsSettings: 'DomainValidation', TlsDomain: 'mx-in.mailwarden.test' })]);
    expect(fake.exchange.inboundConnectors(tenantId)).toHaveLength(1);
    expect(fake.exchange.invocationsOf('New-InboundConnector').filter((call) => call.tenant === tenantId)).toHaveLength(1);
    const row = await db.prisma.mailflowObject.findFirstOrThrow({ where: { accountId: account.id, kind: 'OUTBOUND_CONNECTOR' } });
    expect(row.exchangeGuid).toBe(fake.exchange.outboundConnectors(tenantId)[0]!.Guid);
  });

  it('should refuse to create the rule without the scanner ranges (readable), and strip the forgeable header exception of a rule an earlier version created', async () => {
    const { tenantId, account, names } = await connectedAccount('ranges.example');
    const ranges = settings.ipRanges;
    settings.ipRanges = []; // MAILFLOW_SCANNER_IP_RANGES not set (the module reads these settings per step)
    let failed: ModeMigrationWithSteps;
    try {
      failed = await gatewayToMailflow(account);
    } finally {
      settings.ipRanges = ranges;
    }
    expect(step(failed, 'create-mailflow-rule')).toMatchObject({ status: 'FAILED', lastError: expect.stringContaining('MAILFLOW_SCANNER_IP_RANGES is not set') });
    expect(fake.exchange.rules(tenantId)).toEqual([]);

    // The rule as issue 16's first version created it: excepted by a header any internet sender can write.
    fake.exchange.run(tenantId, 'New-TransportRule', {
      Name: names.rule,
      Priority: 0,
      FromScope: 'NotInOrganization',
      RecipientDomainIs: ['ranges.example'],
      RouteMessageOutboundConnector: names.outbound,
      ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed',
      ExceptIfHeaderContainsWords: ['mx.mailwarden.test'],
      Comments: ownershipMark(account.id),
    });
    await runner.retry(account.id, failed.id, actor);
    const resumed = await settled(account.id, failed.id);
    expect(step(resumed, 'create-mailflow-rule')).toMatchObject({ status: 'DONE', result: { rule: { action: 'corrected', corrected: expect.arrayContaining(['ExceptIfSenderIpRanges', 'ExceptIfHeaderContainsMessageHeader', 'ExceptIfHeaderContainsWords']) } } });
    expect(fake.exchange.rules(tenantId)).toEqual([
      expect.objectContaining({ Name: names.rule, ExceptIfSenderIpRanges: ['203.0.113.0/24'], ExceptIfHeaderContainsMessageHeader: null, ExceptIfHeaderContainsWords: [] }),
    ]);
  });

  it("should leave Mailflow for monitor-only removing exactly Mailwarden's objects: the tenant's own rule, connectors and ARC sealers stay", async () => {
    const { tenantId, account, names } = await connectedAccount('leave.example');
    fake.exchange.run(tenantId, 'Set-ArcConfig', { Identity: 'Default', ArcTrustedSealers: ['partner-sealer.example'] });
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Tenant disclaimer', SentToScope: 'NotInOrganization', SetHeaderName: 'X-Disclaimer', SetHeaderValue: '1' });
    fake.exchange.run(tenantId, 'New-InboundConnector', { Name: 'Tenant partner', ConnectorType: 'Partner', SenderDomains: ['partner.example'], RequireTls: true });
    fake.exchange.run(tenantId, 'New-OutboundConnector', { Name: 'Tenant archive', SmartHosts: ['archive.example'], IsTransportRuleScoped: true });
    const setUp = await gatewayToMailflow(account);
    expect(step(setUp, 'connect-mailflow').status).toBe('WAITING_FOR_ADMIN');
    // Finish the plan quickly (the admin's acknowledgements), so the domain is in MAILFLOW mode.
    await runner.advance(account.id, setUp.id, actor, { acknowledgeRisk: true });
    await runner.advance(account.id, setUp.id, actor, { acknowledgeRisk: true });
    await runner.advance(account.id, setUp.id, actor, { acknowledgeRisk: true });
    expect((await runner.get(account.id, setUp.id)).status).toBe('COMPLETED');
    // A tenant admin later puts their own rule in front of ours: never touched by the removal either.
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Tenant first rule', Priority: 0, SentToScope: 'NotInOrganization', SetHeaderName: 'X-First', SetHeaderValue: '1' });

    const ourRule = fake.exchange.rules(tenantId).find((rule) => rule.Name === names.rule)!.Guid;
    const back = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: 0 }, actor);
    expect(back.steps.map((candidate) => candidate.key)).toEqual([
      'accept-mail-on-both-paths',
      'complete-journal-setup',
      'remove-mailflow-rule',
      'restore-mail-routing',
      'remove-domains-from-gateway-and-mailflow',
      'turn-monitor-only-on',
      'wait-for-old-path-to-drain',
      'remove-inbound-connector',
      'close-overlap-window',
    ]);
    await runner.advance(account.id, back.id, actor); // overlap opened; journal setup waits for a copy after it started
    await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['x@leave.example'] });
    await runner.advance(account.id, back.id, actor);
    const done = await settled(account.id, back.id);
    expect(done.status).toBe('COMPLETED');
    expect(step(done, 'restore-mail-routing').result).toMatchObject({ passed: true });

    expect(fake.exchange.rules(tenantId).map((rule) => `${rule.Priority}:${rule.Name}`)).toEqual(['0:Tenant first rule', '1:Tenant disclaimer']);
    expect(fake.exchange.inboundConnectors(tenantId).map((connector) => connector.Name)).toEqual(['Tenant partner']);
    expect(fake.exchange.outboundConnectors(tenantId).map((connector) => connector.Name)).toEqual(['Tenant archive']);
    expect(fake.exchange.arcConfig(tenantId).ArcTrustedSealers).toEqual(['partner-sealer.example']);
    expect(await db.prisma.mailflowObject.count({ where: { accountId: account.id } })).toBe(0);
    expect(fake.exchange.invocationsOf('Remove-TransportRule').filter((call) => call.tenant === tenantId).map((call) => call.parameters.Identity)).toEqual([ourRule]);
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: true });
  });

  it('should go back to Gateway and leave alone an object that took the name of one of ours (another Guid)', async () => {
    const { tenantId, account, names } = await connectedAccount('swap.example');
    const setUp = await gatewayToMailflow(account);
    for (let index = 0; index < 3; index++) {
      await runner.advance(account.id, setUp.id, actor, { acknowledgeRisk: true });
    }
    expect((await runner.get(account.id, setUp.id)).status).toBe('COMPLETED');
    // A tenant admin deletes Mailwarden's inbound connector and makes one of their own under the same name.
    fake.exchange.run(tenantId, 'Remove-InboundConnector', { Identity: names.inbound });
    fake.exchange.run(tenantId, 'New-InboundConnector', { Name: names.inbound, ConnectorType: 'Partner', SenderDomains: ['partner.example'] });
    const theirs = fake.exchange.inboundConnectors(tenantId)[0]!.Guid;

    mx.set('swap.example', [{ exchange: 'mx.mailwarden.test', priority: 10 }]);
    const back = await runner.plan(account.id, { kind: 'MAILFLOW_TO_GATEWAY', quietPeriodSeconds: 0 }, actor);
    expect(back.steps.map((candidate) => candidate.key)).toEqual([
      'accept-mail-on-both-paths',
      'complete-gateway-setup',
      'switch-domains-to-gateway',
      'remove-mailflow-rule',
      'remove-mailflow-connectors',
      'remove-inbound-connector',
      'close-overlap-window',
    ]);
    await runner.advance(account.id, back.id, actor);
    const done = await settled(account.id, back.id);
    expect(done.status).toBe('COMPLETED');
    expect(step(done, 'remove-mailflow-rule').result).toMatchObject({ rule: { outcome: 'removed' }, outbound: { outcome: 'removed' } });
    expect(step(done, 'remove-inbound-connector').result).toMatchObject({ inbound: { outcome: 'left-alone' }, arc: { removed: true } });
    expect(fake.exchange.inboundConnectors(tenantId).map((connector) => connector.Guid)).toEqual([theirs]);
    expect(fake.exchange.rules(tenantId)).toEqual([]);
    expect(fake.exchange.outboundConnectors(tenantId)).toEqual([]);
    expect(await db.prisma.mailflowObject.count({ where: { accountId: account.id } })).toBe(0);
    expect(await db.prisma.domain.findFirstOrThrow({ where: { accountId: account.id } })).toMatchObject({ mode: 'GATEWAY', transitionMode: null });
  });

  it('should automate the Exchange steps of monitor-only → Advanced (mailflow) too, and not of its gateway variant', async () => {
    const tenantId = fake.addTenant(undefined, true);
    fake.exchange.addAcceptedDomain(tenantId, 'journal.example');
    const account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'journal.example', mode: 'JOURNAL' });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test' } });
    const gateway = await runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY', gatewayMxHost: 'mx.mailwarden.test' }, actor);
    expect(gateway.steps.map((candidate) => candidate.key)).not.toContain('create-mailflow-rule');
    await runner.cancel(account.id, gateway.id, actor);

    const planned = await runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' }, actor);
    expect(planned.steps.map((candidate) => candidate.key).slice(0, 7)).toEqual([
      'accept-mail-on-both-paths',
      'copy-microsoft-365-domains',
      'detect-mailflow-conflicts',
      'create-mailflow-connectors',
      'create-mailflow-rule',
      'trust-arc-sealer',
      'complete-mailflow-setup',
    ]);
    expect(step(planned, 'complete-mailflow-setup').instruction).toContain('Mailwarden created the Exchange Online connectors and the transport rule itself');
    await runner.advance(account.id, planned.id, actor);
    const waiting = await settled(account.id, planned.id);
    expect(step(waiting, 'complete-mailflow-setup').status).toBe('WAITING_FOR_ADMIN');
    expect(fake.exchange.rules(tenantId).map((rule) => [rule.Name, rule.RecipientDomainIs])).toEqual([[mailflowObjectNames(account.id).rule, ['journal.example']]]);
  });

  it('should route only the members of a synced group when the plan names one, and refuse a group that is not synced or not the account\'s', async () => {
    const { tenantId, account, names } = await connectedAccount('group.example');
    const finance = await db.prisma.group.create({ data: { accountId: account.id, name: 'Finance' } });
    await db.prisma.m365DirectoryObject.create({ data: { accountId: account.id, kind: 'GROUP', graphId: 'a1b2c3d4-0000-4000-8000-00000000f1a0', localId: finance.id } });
    const local = await db.prisma.group.create({ data: { accountId: account.id, name: 'Local only' } });
    const stranger = await factories.newAccount();
    const foreign = await db.prisma.group.create({ data: { accountId: stranger.id, name: 'Finance' } });
    await db.prisma.m365DirectoryObject.create({ data: { accountId: stranger.id, kind: 'GROUP', graphId: 'ffffffff-0000-4000-8000-000000000000', localId: foreign.id } });
    for (const groupId of [local.id, foreign.id]) {
      await expect(runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', mailflowGroupId: groupId }, actor)).rejects.toMatchObject({
        message: expect.stringContaining('not a group of this account synced from Microsoft 365'),
      });
    }

    const planned = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', mailflowGroupId: finance.id }, actor);
    expect(planned.params).toMatchObject({ mailflow: { group: { id: finance.id, graphId: 'a1b2c3d4-0000-4000-8000-00000000f1a0', name: 'Finance' } } });
    await runner.advance(account.id, planned.id, actor);
    await settled(account.id, planned.id);
    expect(fake.exchange.rules(tenantId)).toEqual([
      expect.objectContaining({ Name: names.rule, RecipientDomainIs: ['group.example'], SentToMemberOf: ['a1b2c3d4-0000-4000-8000-00000000f1a0'] }),
    ]);
  });

  it('should refuse a group for an account without a Microsoft 365 connection', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'nogroup.example', mode: 'GATEWAY' });
    const group = await db.prisma.group.create({ data: { accountId: account.id, name: 'G' } });
    await expect(runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', mailflowGroupId: group.id }, actor)).rejects.toMatchObject({
      message: expect.stringContaining('mailflowGroupId applies only'),
    });
  });

  it('should re-queue a step left RUNNING without a job (crash between the commit and the enqueue) when a worker starts', async () => {
    const { tenantId, account } = await connectedAccount('requeue.example');
    const planned = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test' }, actor);
    // As the crash leaves it: the overlap step done, the first Exchange step RUNNING, nothing in Redis.
    await db.prisma.modeMigration.update({ where: { id: planned.id }, data: { status: 'RUNNING' } });
    await db.prisma.modeMigrationStep.update({ where: { id: step(planned, 'accept-mail-on-both-paths').id }, data: { status: 'SKIPPED' } });
    const stepId = step(planned, 'copy-microsoft-365-domains').id;
    // A job of this attempt that already finished without recording the step (its worker lost the database).
    const queue = new JobQueue(QueueName.ModeMigration, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    const stale = await queue.add(ModeMigrationStepJob, { accountId: account.id, migrationId: planned.id, stepId, actor: 'x', actorKeyId: null }, 0);
    for (let wait = 0; !(await stale.isCompleted()) && wait < 200; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await stale.isCompleted()).toBe(true); // the step was not RUNNING then: nothing done
    await db.prisma.modeMigrationStep.update({ where: { id: stepId }, data: { status: 'RUNNING', startedAt: new Date() } });
    expect(await runner.requeueRunningSteps()).toBeGreaterThanOrEqual(1);
    await queue.close();
    const resumed = await settled(account.id, planned.id);
    expect(step(resumed, 'copy-microsoft-365-domains').status).toBe('DONE');
    expect(step(resumed, 'connect-mailflow').status).toBe('WAITING_FOR_ADMIN');
    expect(fake.exchange.rules(tenantId)).toHaveLength(1);
  });

  it('should keep the manual steps for an account without a Microsoft 365 connection', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'manual.example', mode: 'GATEWAY' });
    const planned = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test' }, actor);
    expect(planned.steps.map((candidate) => candidate.key).slice(0, 4)).toEqual(['accept-mail-on-both-paths', 'copy-microsoft-365-domains', 'connect-mailflow', 'mailflow-quick-test']);
    const waiting = await runner.advance(account.id, planned.id, actor);
    expect(step(waiting, 'copy-microsoft-365-domains')).toMatchObject({ status: 'WAITING_FOR_ADMIN', result: expect.objectContaining({ available: false }) });
    const acknowledged = await runner.advance(account.id, planned.id, actor, { acknowledgeUnverifiable: true });
    expect(step(acknowledged, 'copy-microsoft-365-domains')).toMatchObject({ status: 'DONE', result: expect.objectContaining({ acknowledgedByAdmin: true }) });
  });

  it('should wait with a readable reason when the app may not manage Exchange Online in the tenant', async () => {
    const { tenantId, account } = await connectedAccount('norole.example');
    fake.exchange.setAdminRole(tenantId, false);
    const waiting = await gatewayToMailflow(account);
    expect(step(waiting, 'copy-microsoft-365-domains')).toMatchObject({
      status: 'WAITING_FOR_ADMIN',
      result: expect.objectContaining({ passed: false, message: expect.stringContaining('Exchange Administrator role') }),
    });
  });
});
