import { differingParameters, findMailflowConflicts, mailflowObjectNames, MISSING_SCANNER_RANGES, transportRuleParameters } from './mailflow-objects';

const names = mailflowObjectNames('7f3c9a12-0000-4000-8000-000000000001');
const conflicts = (rules: Array<Record<string, unknown>>, inboundConnectors: Array<Record<string, unknown>> = [], outboundConnectors: Array<Record<string, unknown>> = []) =>
  findMailflowConflicts({ rules, inboundConnectors, outboundConnectors, domains: ['acme.example'], names });

describe('mailflowObjectNames', () => {
  it('should give predictable names prefixed with Mailwarden and the account short id', () => {
    expect(names).toEqual({
      prefix: 'Mailwarden - 7f3c9a12',
      inbound: 'Mailwarden - 7f3c9a12 - Inbound',
      outbound: 'Mailwarden - 7f3c9a12 - Outbound',
      rule: 'Mailwarden - 7f3c9a12 - Route through Mailwarden',
    });
  });
});

describe('findMailflowConflicts', () => {
  it('should report enforced rules that route, redirect, delete, quarantine, reject or moderate mail of the domains', () => {
    const found = conflicts([
      { Name: 'Route', Priority: 3, State: 'Enabled', RecipientDomainIs: ['ACME.example'], RouteMessageOutboundConnector: 'Old' },
      { Name: 'Sub', Priority: 1, State: 'Enabled', RecipientDomainIs: ['eu.acme.example'], DeleteMessage: true },
      { Name: 'To one', Priority: 2, State: 'Enabled', SentTo: ['ceo@acme.example'], RedirectMessageTo: ['pa@acme.example'], Quarantine: true },
      { Name: 'Everything', Priority: 4, State: 'Enabled', RejectMessageReasonText: 'no' },
      { Name: 'Members', Priority: 5, State: 'Enabled', SentToMemberOf: ['board@acme.example'], ModerateMessageByUser: ['boss@acme.example'] },
    ]);
    expect(found.map((conflict) => [conflict.name, conflict.priority])).toEqual([
      ['Sub', 1],
      ['To one', 2],
      ['Route', 3],
      ['Everything', 4],
      ['Members', 5],
    ]);
    expect(found[1]!.description).toBe("Transport rule 'To one' (priority 2) applies to mail for ceo@acme.example and redirects it to pa@acme.example, quarantines it.");
    expect(found[3]!.description).toBe(`Transport rule 'Everything' (priority 4) applies to all mail for acme.example and rejects it ("no").`);
    expect(found[4]!.description).toContain('members of board@acme.example');
  });

  it('should not report rules that cannot touch inbound mail of the domains, do nothing to its path, are off, or are ours', () => {
    expect(
      conflicts([
        { Name: 'Other domain', State: 'Enabled', RecipientDomainIs: ['other.example'], DeleteMessage: true },
        { Name: 'Outbound only', State: 'Enabled', SentToScope: 'NotInOrganization', DeleteMessage: true },
        { Name: 'Internal senders', State: 'Enabled', FromScope: 'InOrganization', Quarantine: true },
        { Name: 'Excepted', State: 'Enabled', ExceptIfRecipientDomainIs: ['acme.example'], DeleteMessage: true },
        { Name: 'Header only', State: 'Enabled', SetHeaderName: 'X-A', SetHeaderValue: '1' },
        { Name: 'Disabled', State: 'Disabled', DeleteMessage: true },
        { Name: 'Audit', State: 'Enabled', Mode: 'Audit', DeleteMessage: true },
        { Name: 'Someone', State: 'Enabled', SentTo: ['x@notacme.example'], DeleteMessage: true },
        { Name: names.rule, State: 'Enabled', RecipientDomainIs: ['acme.example'], RouteMessageOutboundConnector: names.outbound },
      ]),
    ).toEqual([]);
  });

  it('should report connectors of the same domains and an inbound connector that would refuse mail relayed back', () => {
    const found = conflicts(
      [],
      [
        { Name: 'Hybrid', ConnectorType: 'OnPremises', SenderDomains: ['smtp:acme.example;1'], TlsSenderCertificateName: 'mail.acme.example', Enabled: true },
        { Name: 'Lockdown', ConnectorType: 'Partner', SenderDomains: ['smtp:*;1'], SenderIPAddresses: ['198.51.100.0/24'], RestrictDomainsToIPAddresses: true, Enabled: true },
        { Name: 'Partner', ConnectorType: 'Partner', SenderDomains: ['partner.example'], Enabled: true },
        { Name: 'Off', ConnectorType: 'Partner', SenderDomains: ['acme.example'], Enabled: false },
        { Name: names.inbound, ConnectorType: 'Partner', SenderDomains: ['*'], RestrictDomainsToCertificate: true, TlsSenderCertificateName: 'relay', Enabled: true },
      ],
      [
        { Name: 'To acme', RecipientDomains: ['acme.example'], UseMXRecord: false, SmartHosts: ['old.filter.example'], Enabled: true },
        { Name: 'Scoped', RecipientDomains: [], IsTransportRuleScoped: true, Enabled: true },
      ],
    );
    expect(found.map((conflict) => [conflict.kind, conflict.name])).toEqual([
      ['outbound-connector', 'To acme'],
      ['inbound-connector', 'Hybrid'],
      ['inbound-connector', 'Lockdown'],
    ]);
    expect(found[0]!.description).toBe("Outbound connector 'To acme' sends mail for acme.example to the smart hosts old.filter.example.");
    expect(found[2]!.description).toContain('mail relayed back by Mailwarden would be rejected');
  });
});

describe('differingParameters', () => {
  it("should compare Exchange's spellings (smtp: prefixes, case, list order) and name what differs", () => {
    const desired = transportRuleParameters(
      { scannerHost: 'mx', certificateName: 'mx', ipRanges: ['203.0.113.0/24'], arcSealDomain: null },
      names,
      ['b.example', 'a.example'],
      'acc',
    );
    const actual: Record<string, unknown> = { ...desired, RecipientDomainIs: ['A.example', 'b.example'], Name: 'renamed' };
    expect(differingParameters(actual, desired)).toEqual([]);
    expect(differingParameters({ ...actual, Priority: 2, RouteMessageOutboundConnector: null }, desired)).toEqual(['Priority', 'RouteMessageOutboundConnector']);
    expect(differingParameters({ SenderDomains: ['smtp:*;1'] }, { SenderDomains: ['*'] })).toEqual([]);
    // The loop exception is compared: widened, removed, or a (forgeable) header exception added back.
    expect(differingParameters({ ...actual, ExceptIfSenderIpRanges: ['0.0.0.0/0'] }, desired)).toEqual(['ExceptIfSenderIpRanges']);
    expect(differingParameters({ ...actual, ExceptIfSenderIpRanges: null }, desired)).toEqual(['ExceptIfSenderIpRanges']);
    expect(differingParameters({ ...actual, ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed', ExceptIfHeaderContainsWords: ['mx'] }, desired)).toEqual([
      'ExceptIfHeaderContainsMessageHeader',
      'ExceptIfHeaderContainsWords',
    ]);
    // Exchange answers an unset list as [] or null: the same.
    expect(differingParameters({ ...actual, ExceptIfHeaderContainsWords: [] }, desired)).toEqual([]);
  });
});

describe('transportRuleParameters', () => {
  it("should except only the scanner's egress ranges (no header exception) and refuse to build a rule without them", () => {
    const rule = transportRuleParameters({ scannerHost: 'mx', certificateName: 'mx', ipRanges: ['203.0.113.0/24', '2001:db8::/48'], arcSealDomain: null }, names, ['a.example'], 'acc');
    expect(rule).toMatchObject({ ExceptIfSenderIpRanges: ['203.0.113.0/24', '2001:db8::/48'], ExceptIfHeaderContainsMessageHeader: null, ExceptIfHeaderContainsWords: null });
    expect(Object.keys(rule).filter((key) => key.startsWith('ExceptIf') && rule[key] !== null)).toEqual(['ExceptIfSenderIpRanges']);
    expect(() => transportRuleParameters({ scannerHost: 'mx', certificateName: 'mx', ipRanges: [], arcSealDomain: null }, names, ['a.example'], 'acc')).toThrow(MISSING_SCANNER_RANGES);
  });
});
