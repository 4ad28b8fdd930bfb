import { FakeMicrosoft365, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type Json, type TestAdminApi } from '../../test/admin-api.harness';

type Step = { key: string; status: string; result: Json | null; lastError: string | null };

jest.setTimeout(60_000);

/** Gateway → Mailflow through the admin API with the Exchange steps automated (its own QueueName.ModeMigration worker). */
describe('mode migrations with Exchange Online automated (admin API, fake Microsoft 365)', () => {
  const fake = new FakeMicrosoft365();
  let api: TestAdminApi;
  let db: TestDatabase;

  const call = (method: string, path: string, key: string, body?: unknown) => api.call(method, path, key, body);
  const steps = (body: Json) => body.steps as Step[];
  const settled = async (path: string, key: string): Promise<Json> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const reply = await call('GET', path, key);
      if (!steps(reply.body).some((step) => step.status === 'RUNNING') || Date.now() > until) {
        return reply.body;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    await fake.start();
    api = await startTestAdminApi({
      env: {
        ...fake.appEnv({ exchange: true }),
        MAILFLOW_SCANNER_HOST: 'mx-in.mailwarden.test',
        MAILFLOW_SCANNER_IP_RANGES: '203.0.113.0/24',
        ARC_SEAL_DOMAIN: 'arc.mailwarden.test',
        SMTP_HOSTNAME: 'mx.mailwarden.test',
      },
      overrides: { microsoft365: { graph: { maxRetries: 2, backoffBaseMs: 10 } } },
    });
    db = api.db;
  });

  afterAll(async () => {
    await api?.close();
    await fake.stop();
  });

  it("should report the tenant's conflicting rule in the step, only to that account, and create Mailwarden's objects once acknowledged", async () => {
    const factories = new TestFactories(db.prisma);
    const tenantId = fake.addTenant(undefined, true);
    fake.exchange.addAcceptedDomain(tenantId, 'contoso.example');
    fake.exchange.run(tenantId, 'New-TransportRule', { Name: 'Journal everything to archive', RecipientDomainIs: ['contoso.example'], RedirectMessageTo: ['archive@contoso.example'] });
    const account = await factories.newAccount({ monitorOnly: false, name: 'Contoso' });
    await factories.newDomain(account, { name: 'contoso.example', mode: 'GATEWAY' });
    await db.prisma.m365Connection.create({ data: { accountId: account.id, tenantId, consentedAt: new Date(), consentedBy: 'test' } });
    const other = await factories.newAccount({ monitorOnly: false, name: 'Northwind' });
    const keys = new TestFactories(db.prisma);
    const key = (await keys.newApiKey({ name: 'Contoso admin', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    const otherKey = (await keys.newApiKey({ name: 'Northwind admin', role: 'TENANT_ADMIN', accountId: other.id })).plaintext;

    const planned = await call('POST', `/v1/accounts/${account.id}/mode-migrations`, key, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 0 });
    expect(planned.status).toBe(201);
    const path = `/v1/accounts/${account.id}/mode-migrations/${String(planned.body.id)}`;
    const advanced = await call('POST', `${path}/advance`, key, {});
    expect(advanced.status).toBe(200);
    expect(steps(advanced.body).find((step) => step.key === 'copy-microsoft-365-domains')!.status).toBe('RUNNING');

    const waiting = await settled(path, key);
    expect(waiting.status).toBe('WAITING');
    const detect = steps(waiting).find((step) => step.key === 'detect-mailflow-conflicts')!;
    expect(detect).toMatchObject({ status: 'WAITING_FOR_ADMIN', result: { passed: false, available: true } });
    expect(detect.result!.message).toBe(
      "Existing mail flow rules found: Transport rule 'Journal everything to archive' (priority 0) applies to mail for contoso.example and redirects it to archive@contoso.example. Resolve them and retry, or acknowledge the risk to keep them.",
    );
    expect((await call('GET', path, otherKey)).status).toBe(404);
    expect(fake.exchange.inboundConnectors(tenantId)).toEqual([]);

    const acknowledged = await call('POST', `${path}/advance`, key, { acknowledgeRisk: true });
    expect(acknowledged.status).toBe(200);
    const created = await settled(path, key);
    expect(steps(created).map((step) => `${step.key}:${step.status}`).slice(1, 7)).toEqual([
      'copy-microsoft-365-domains:DONE',
      'detect-mailflow-conflicts:DONE',
      'create-mailflow-connectors:DONE',
      'create-mailflow-rule:DONE',
      'trust-arc-sealer:DONE',
      'connect-mailflow:WAITING_FOR_ADMIN',
    ]);
    expect(fake.exchange.rules(tenantId).map((rule) => rule.Name)).toEqual([expect.stringMatching(/^Mailwarden - [0-9a-f]{8} - Route through Mailwarden$/), 'Journal everything to archive']);
    expect(fake.exchange.inboundConnectors(tenantId)[0]).toMatchObject({ TlsSenderCertificateName: 'mx-in.mailwarden.test', SenderIPAddresses: ['203.0.113.0/24'] });
    expect(fake.exchange.arcConfig(tenantId).ArcTrustedSealers).toEqual(['arc.mailwarden.test']);
  });
});
