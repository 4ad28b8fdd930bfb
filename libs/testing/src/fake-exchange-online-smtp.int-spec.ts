import { createTransport } from 'nodemailer';
import { FakeExchangeOnlineSmtp } from './fake-exchange-online-smtp';
import { FakeMicrosoft365 } from './fake-microsoft365.server';
import { SmtpSink } from './smtp-sink';
import { makeTestCertificate } from './test-certificate';

/**
 * The fake Exchange Online's mail routing on its own: the tenant's rules as Exchange applies them (priority order,
 * redirect, delete, disabled and audit-mode rules skipped), the inbound connector's attribution by IP or by a TLS
 * client certificate that chains to the trusted CA, and delivery into the mailboxes Graph serves.
 */
describe(FakeExchangeOnlineSmtp.name, () => {
  const m365 = new FakeMicrosoft365();
  const smartHost = new SmtpSink({ noStartTls: true });
  const certificate = makeTestCertificate(); // CN=mailwarden-test, self-signed: its own CA
  let exchange: FakeExchangeOnlineSmtp;
  let tenantId: string;

  const send = async (port: number, to: string, messageId: string, options: { localAddress?: string; tls?: { key: string; cert: string } } = {}) => {
    const transport = createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      requireTLS: !!options.tls,
      ignoreTLS: !options.tls,
      localAddress: options.localAddress,
      name: 'client.example',
      tls: { rejectUnauthorized: false, ...(options.tls ?? {}) },
    });
    try {
      await transport.sendMail({ envelope: { from: 'someone@sender.example', to: [to] }, raw: `From: <someone@sender.example>\r\nTo: <${to}>\r\nSubject: hi\r\nMessage-ID: ${messageId}\r\n\r\nHello.\r\n` });
    } finally {
      transport.close();
    }
  };

  beforeAll(async () => {
    await m365.start();
    await smartHost.start();
    tenantId = m365.addTenant(undefined, true);
    m365.exchange.addAcceptedDomain(tenantId, 'fabrikam.example');
    for (const name of ['ceo', 'assistant', 'user']) {
      m365.addUser(tenantId, { userPrincipalName: `${name}@fabrikam.example` });
    }
    exchange = new FakeExchangeOnlineSmtp(m365, undefined, { smartHostAddress: () => '127.0.0.1', smartHostPort: () => smartHost.port, clientCa: certificate.certificatePem, routeRetries: 0 });
    await exchange.start();
  });

  afterAll(async () => {
    await exchange.stop();
    await smartHost.stop();
    await m365.stop();
  });

  it('should apply enabled rules in priority order: a redirect first, a delete, a route; disabled and audit rules do nothing', async () => {
    m365.exchange.run(tenantId, 'New-OutboundConnector', { Name: 'Filter', SmartHosts: ['filter.example'], IsTransportRuleScoped: true });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'Route all', RecipientDomainIs: ['fabrikam.example'], RouteMessageOutboundConnector: 'Filter' });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'CEO to assistant', Priority: 0, SentTo: ['ceo@fabrikam.example'], RedirectMessageTo: ['assistant@fabrikam.example'], StopRuleProcessing: true });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'Drop user', Priority: 1, SentTo: ['user@fabrikam.example'], DeleteMessage: true });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'Off', SentTo: ['assistant@fabrikam.example'], DeleteMessage: true, Enabled: false });
    m365.exchange.run(tenantId, 'New-TransportRule', { Name: 'Audit only', SentTo: ['assistant@fabrikam.example'], DeleteMessage: true, Mode: 'Audit' });

    await send(exchange.inboundPort, 'ceo@fabrikam.example', '<r1@sender.example>');
    await send(exchange.inboundPort, 'user@fabrikam.example', '<r2@sender.example>');
    await send(exchange.inboundPort, 'assistant@fabrikam.example', '<r3@sender.example>');
    await exchange.settle();

    const [assistant] = m365.locateUser(tenantId, 'assistant@fabrikam.example');
    expect(exchange.traceOf('<r1@sender.example>').map((entry) => entry.event)).toEqual(['accepted', 'rule-matched', 'redirected', 'delivered']);
    expect(m365.locate(tenantId, assistant!.id, '<r1@sender.example>')).toHaveLength(1);
    expect(exchange.traceOf('<r2@sender.example>').map((entry) => [entry.event, entry.detail])).toEqual([
      ['accepted', expect.any(String)],
      ['rule-matched', 'Drop user'],
      ['deleted', 'DeleteMessage'],
    ]);
    expect(exchange.traceOf('<r3@sender.example>').map((entry) => entry.event)).toEqual(['accepted', 'rule-matched', 'routed']);
    expect(smartHost.received.map((message) => message.to)).toEqual([['assistant@fabrikam.example']]);
  });

  it('should take mail back only from an inbound connector: by IP, or by a client certificate that chains to the trusted CA', async () => {
    const store = m365.exchange.store(tenantId);
    store.transportRules.splice(0);
    m365.exchange.run(tenantId, 'New-InboundConnector', { Name: 'Back', ConnectorType: 'Partner', SenderDomains: ['*'], SenderIPAddresses: ['127.0.0.9'], TlsSenderCertificateName: 'mailwarden-test', RequireTls: false });

    await expect(send(exchange.connectorPort, 'user@fabrikam.example', '<c1@sender.example>', { localAddress: '127.0.0.8' })).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/5\.7\.51/) });
    await send(exchange.connectorPort, 'user@fabrikam.example', '<c2@sender.example>', { localAddress: '127.0.0.9' });
    await send(exchange.connectorPort, 'user@fabrikam.example', '<c3@sender.example>', { localAddress: '127.0.0.8', tls: { key: certificate.privateKeyPem, cert: certificate.certificatePem } });
    // A certificate with the right name that the CA did not issue is not the connector's.
    const forged = makeTestCertificate();
    await expect(
      send(exchange.connectorPort, 'user@fabrikam.example', '<c4@sender.example>', { localAddress: '127.0.0.8', tls: { key: forged.privateKeyPem, cert: forged.certificatePem } }),
    ).rejects.toMatchObject({ responseCode: 550 });
    await exchange.settle();

    const [user] = m365.locateUser(tenantId, 'user@fabrikam.example');
    expect(['<c1@sender.example>', '<c2@sender.example>', '<c3@sender.example>', '<c4@sender.example>'].map((id) => m365.locate(tenantId, user!.id, id).length)).toEqual([0, 1, 1, 0]);
    // Graph shows what Exchange delivered, with its headers.
    const message = m365.messagesOf(tenantId, user!.id).find((candidate) => candidate.internetMessageId === '<c2@sender.example>')!;
    expect(message.internetMessageHeaders!.find((header) => header.name === 'Received')!.value).toMatch(/by fake\.mail\.protection\.outlook\.com/);
  });

  it('should except a rule by the connecting client IP (ExceptIfSenderIpRanges), never by what the message says', async () => {
    const other = m365.addTenant(undefined, true);
    m365.exchange.addAcceptedDomain(other, 'northwind.example');
    m365.addUser(other, { userPrincipalName: 'ann@northwind.example' });
    m365.exchange.run(other, 'New-OutboundConnector', { Name: 'Filter', SmartHosts: ['filter.example'], IsTransportRuleScoped: true });
    expect(() => m365.exchange.run(other, 'New-TransportRule', { Name: 'Bad', RecipientDomainIs: ['northwind.example'], ExceptIfSenderIpRanges: ['127.0.0.3/33'] })).toThrow(/not a valid IP address or range/);
    m365.exchange.run(other, 'New-TransportRule', { Name: 'Route', RecipientDomainIs: ['northwind.example'], RouteMessageOutboundConnector: 'Filter', ExceptIfSenderIpRanges: ['127.0.0.3/32'] });
    const before = smartHost.received.length;

    await send(exchange.inboundPort, 'ann@northwind.example', '<ip1@sender.example>', { localAddress: '127.0.0.3' });
    await send(exchange.inboundPort, 'ann@northwind.example', '<ip2@sender.example>', { localAddress: '127.0.0.4' });
    await exchange.settle();

    expect(exchange.traceOf('<ip1@sender.example>').map((entry) => [entry.event, entry.detail])).toEqual([
      ['accepted', 'inbound from 127.0.0.3'],
      ['rule-excepted', 'Route'],
      ['delivered', expect.stringContaining('straight from the internet')],
    ]);
    expect(exchange.traceOf('<ip2@sender.example>').map((entry) => entry.event)).toEqual(['accepted', 'rule-matched', 'routed']);
    expect(smartHost.received.slice(before).map((message) => message.to)).toEqual([['ann@northwind.example']]);
  });

  it('should refuse a domain no tenant accepts and a mailbox that does not exist, as Exchange does', async () => {
    await expect(send(exchange.inboundPort, 'x@nowhere.example', '<n1@sender.example>')).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/5\.7\.64/) });
    await expect(send(exchange.inboundPort, 'ghost@fabrikam.example', '<n2@sender.example>')).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/5\.1\.10/) });
  });
});
