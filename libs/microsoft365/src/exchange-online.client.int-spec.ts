import { FakeMicrosoft365 } from '@mailwarden/testing';
import { AppTokenProvider } from './app-token.provider';
import { ExchangeOnlineClient } from './exchange-online.client';
import { GraphClient } from './graph.client';
import { ExchangeOnlineError } from './microsoft365.errors';
import type { Microsoft365AppSettings } from './microsoft365.settings';

describe(ExchangeOnlineClient.name, () => {
  const fake = new FakeMicrosoft365();
  let tenantId: string;
  let settings: Microsoft365AppSettings;
  let tokens: AppTokenProvider;
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  const client = (options: ConstructorParameters<typeof ExchangeOnlineClient>[3] = {}, tenant = tenantId) =>
    new ExchangeOnlineClient(tokens, tenant, settings.exchangeBaseUrl, { sleep, ...options });

  beforeAll(async () => {
    const baseUrl = await fake.start();
    tenantId = fake.addTenant();
    fake.consent(tenantId);
    settings = { clientId: fake.clientId, credential: { kind: 'secret', clientSecret: fake.clientSecret }, loginBaseUrl: baseUrl, graphBaseUrl: baseUrl, exchangeBaseUrl: fake.exchange.baseUrl };
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    tokens = new AppTokenProvider(settings);
    fake.requests.length = 0;
    fake.exchange.invocations.length = 0;
    sleeps.length = 0;
  });

  it('should run a cmdlet with an Exchange-scoped token and the CmdletInput body, and keep Graph and Exchange tokens apart', async () => {
    const created = await client().invoke<{ Name: string; Guid: string; TlsSenderCertificateName: string }>('New-InboundConnector', {
      Name: 'Partner A',
      ConnectorType: 'Partner',
      SenderDomains: ['*'],
      TlsSenderCertificateName: 'mx.partner.example',
      RestrictDomainsToCertificate: true,
      RequireTls: true,
    });
    expect(created.value).toEqual([expect.objectContaining({ Name: 'Partner A', TlsSenderCertificateName: 'mx.partner.example', Guid: expect.any(String) })]);
    expect(fake.exchange.inboundConnectors(tenantId)).toHaveLength(1);
    const tokenForms = fake.requestsTo(/\/oauth2\/v2\.0\/token$/).map((request) => (request.body as Record<string, string>).scope);
    expect(tokenForms).toEqual([`${fake.exchange.baseUrl}/.default`]);
    expect(fake.exchange.invocations[0]).toMatchObject({ tenant: tenantId, cmdlet: 'New-InboundConnector', status: 200 });

    // A Graph token is not accepted by Exchange, nor an Exchange token by Graph: separate cache entries per scope.
    const graph = new GraphClient(tokens, tenantId, settings.graphBaseUrl, { sleep });
    await graph.get('/users');
    expect(fake.requestsTo(/\/oauth2\/v2\.0\/token$/)).toHaveLength(2);
    expect(await tokens.token(tenantId)).not.toBe(await tokens.token(tenantId, client().scope));
  });

  it('should follow @odata.nextLink by posting the same CmdletInput, and gather @adminapi.warnings', async () => {
    for (let index = 0; index < 5; index++) {
      fake.exchange.run(tenantId, 'New-OutboundConnector', { Name: `Out ${index}`, SmartHosts: [`smart${index}.example`], IsTransportRuleScoped: true });
    }
    fake.exchange.warnings['Get-OutboundConnector'] = ['The command completed successfully but no settings have been modified.'];
    const result = await client({ pageSize: 2 }).invoke<{ Name: string }>('Get-OutboundConnector');
    expect(result.value.map((connector) => connector.Name)).toEqual(['Out 0', 'Out 1', 'Out 2', 'Out 3', 'Out 4']);
    expect(result.warnings).toEqual(['The command completed successfully but no settings have been modified.']);
    const calls = fake.exchange.invocationsOf('Get-OutboundConnector');
    expect(calls.map((call) => call.skipToken)).toEqual([null, '2', '4']);
    delete fake.exchange.warnings['Get-OutboundConnector'];

    const created = await client().invoke('New-OutboundConnector', { Name: 'Out 5', SmartHosts: ['x.example'], IsTransportRuleScoped: true });
    expect(created.warnings).toContain('Connector creation may take up to 10 minutes to take effect.');
  });

  it('should type Type|Code|Message errors: not found, already exists, unknown parameter', async () => {
    const exo = client();
    const missing = (await exo.invoke('Get-TransportRule', { Identity: 'nope' }).catch((error: unknown) => error)) as ExchangeOnlineError;
    expect(missing).toBeInstanceOf(ExchangeOnlineError);
    expect(missing).toMatchObject({ status: 404, cmdlet: 'Get-TransportRule', type: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', code: 'Ex6F9304' });
    expect(missing.isNotFound).toBe(true);
    expect(missing.message).toContain("object 'nope' couldn't be found");
    expect(await exo.find('TransportRule', 'nope')).toBeNull();

    await exo.invoke('New-TransportRule', { Name: 'Dup', SentToScope: 'InOrganization', SetHeaderName: 'X-A', SetHeaderValue: '1' });
    const duplicate = (await exo.invoke('New-TransportRule', { Name: 'dup', SentToScope: 'InOrganization' }).catch((error: unknown) => error)) as ExchangeOnlineError;
    expect(duplicate.isAlreadyExists).toBe(true);
    expect(duplicate.isNotFound).toBe(false);

    const typo = (await exo.invoke('New-TransportRule', { Name: 'T', SentToScop: 'InOrganization' }).catch((error: unknown) => error)) as ExchangeOnlineError;
    expect(typo).toMatchObject({ status: 400, type: 'System.Management.Automation.ParameterBindingException' });
    expect(typo.message).toContain("'SentToScop'");
  });

  it('should read the error detail whichever of its first two fields carries the exception type', () => {
    const body = (message: string) => ({ error: { code: 'BadRequest', message: 'x', details: [{ code: 'Context', target: '', message }] } });
    const wire = ExchangeOnlineError.fromResponse(400, 'Get-X', body('Microsoft.Exchange.Data.DataValidationException|ExB10C4F|bad | value'));
    const swapped = ExchangeOnlineError.fromResponse(400, 'Get-X', body('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|gone'));
    expect(wire).toMatchObject({ type: 'Microsoft.Exchange.Data.DataValidationException', code: 'ExB10C4F', message: 'bad | value' });
    expect(swapped).toMatchObject({ type: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', code: 'Ex6F9304', message: 'gone' });
    expect(swapped.isNotFound).toBe(true);
    expect(ExchangeOnlineError.fromResponse(502, 'Get-X', null)).toMatchObject({ code: 'http-502', message: 'Exchange Online answered HTTP 502' });
  });

  it('should wait Retry-After on 429 and give up on a Retry-After longer than allowed', async () => {
    fake.exchange.inject({ cmdlet: 'Get-ArcConfig', status: 429, retryAfterSeconds: 7, times: 2 });
    const result = await client().invoke('Get-ArcConfig');
    expect(result.value).toEqual([{ Identity: 'Default', ArcTrustedSealers: [] }]);
    expect(sleeps).toEqual([7000, 7000]);

    fake.exchange.inject({ cmdlet: 'Get-ArcConfig', status: 429, retryAfterSeconds: 600 });
    const error = (await client({ maxRetryAfterMs: 60_000 }).invoke('Get-ArcConfig').catch((caught: unknown) => caught)) as ExchangeOnlineError;
    expect(error).toMatchObject({ status: 429, retryAfterMs: 600_000 });
    expect(error.isThrottled).toBe(true);
  });

  it('should retry a read after a 5xx but never repeat a write whose outcome is unknown', async () => {
    fake.exchange.inject({ cmdlet: 'Get-InboundConnector', status: 503 });
    await expect(client({ backoffBaseMs: 10 }).invoke('Get-InboundConnector')).resolves.toMatchObject({ value: expect.any(Array) });
    expect(sleeps).toEqual([10]);

    fake.exchange.inject({ cmdlet: 'New-InboundConnector', status: 500 });
    await expect(client().invoke('New-InboundConnector', { Name: 'Once', ConnectorType: 'Partner', SenderDomains: ['*'] })).rejects.toMatchObject({ status: 500 });
    expect(fake.exchange.invocationsOf('New-InboundConnector')).toHaveLength(1);
  });

  it('should renew an expired token once, and name missing permission and role as access denied', async () => {
    await client().invoke('Get-ArcConfig');
    fake.expireTokens();
    await client().invoke('Get-ArcConfig');
    expect(fake.exchange.invocationsOf('Get-ArcConfig').map((call) => call.status)).toEqual([200, 401, 200]);

    const other = fake.addTenant(['Mail.ReadWrite'], true);
    const noPermission = (await client({}, other).invoke('Get-TransportRule').catch((error: unknown) => error)) as ExchangeOnlineError;
    expect(noPermission).toMatchObject({ status: 401 });
    expect(noPermission.isAccessDenied).toBe(true);
    expect(noPermission.message).toContain('Exchange.ManageAsApp');

    const noRole = fake.addTenant(undefined, true);
    fake.exchange.setAdminRole(noRole, false);
    const hidden = (await client({}, noRole).invoke('Get-TransportRule').catch((error: unknown) => error)) as ExchangeOnlineError;
    expect(hidden).toMatchObject({ status: 400, type: 'System.Management.Automation.CommandNotFoundException' });
    expect(hidden.isAccessDenied).toBe(true);
  });

  it("should not reach another tenant's objects with its own token", async () => {
    const other = fake.addTenant(undefined, true);
    fake.exchange.run(other, 'New-TransportRule', { Name: 'Theirs', SentToScope: 'InOrganization', DeleteMessage: true });
    const own = await tokens.token(tenantId, client().scope);
    const response = await fetch(`${fake.exchange.baseUrl}/adminapi/beta/${other}/InvokeCommand`, {
      method: 'POST',
      headers: { authorization: `Bearer ${own}`, 'content-type': 'application/json' },
      body: JSON.stringify({ CmdletInput: { CmdletName: 'Remove-TransportRule', Parameters: { Identity: 'Theirs' } } }),
    });
    expect(response.status).toBe(403);
    expect(fake.exchange.rules(other).map((rule) => rule.Name)).toEqual(['Theirs']);
  });

  it('should refuse to follow a nextLink to another host', async () => {
    const foreign = async () =>
      new Response(JSON.stringify({ value: [], '@odata.nextLink': 'https://evil.example/adminapi/beta/x/InvokeCommand?$skiptoken=1' }), { status: 200 });
    const error = (await client({ fetch: foreign as typeof fetch }).invoke('Get-TransportRule').catch((caught: unknown) => caught)) as ExchangeOnlineError;
    expect(error).toMatchObject({ code: 'foreign-link' });
  });

  it('should keep transport rule priorities contiguous in the fake: insert at 0, move, remove', async () => {
    const tenant = fake.addTenant(undefined, true);
    const exo = client({}, tenant);
    await exo.invoke('New-TransportRule', { Name: 'A', SentToScope: 'InOrganization', Quarantine: true });
    await exo.invoke('New-TransportRule', { Name: 'B', SentToScope: 'InOrganization', Quarantine: true });
    await exo.invoke('New-TransportRule', { Name: 'First', Priority: 0, SentToScope: 'InOrganization', Quarantine: true });
    expect(fake.exchange.rules(tenant).map((rule) => `${rule.Priority}:${rule.Name}`)).toEqual(['0:First', '1:A', '2:B']);
    await exo.invoke('Set-TransportRule', { Identity: 'First', Priority: 2 });
    await exo.invoke('Disable-TransportRule', { Identity: 'A' });
    expect(fake.exchange.rules(tenant).map((rule) => `${rule.Priority}:${rule.Name}:${rule.State}`)).toEqual(['0:A:Disabled', '1:B:Enabled', '2:First:Enabled']);
    await exo.invoke('Remove-TransportRule', { Identity: 'A', Confirm: false });
    expect(fake.exchange.rules(tenant).map((rule) => `${rule.Priority}:${rule.Name}`)).toEqual(['0:B', '1:First']);
    await expect(exo.invoke('New-TransportRule', { Name: 'Far', Priority: 9 })).rejects.toMatchObject({ status: 400 });
    await expect(exo.invoke('New-TransportRule', { Name: 'Route', RouteMessageOutboundConnector: 'Missing' })).rejects.toMatchObject({ status: 404 });
  });
});
