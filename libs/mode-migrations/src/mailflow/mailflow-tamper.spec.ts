import { compareMailflowObjects, describeDifference, type ExchangeMailflowState } from './mailflow-tamper';

describe(compareMailflowObjects.name, () => {
  const created = [
    { kind: 'INBOUND_CONNECTOR', name: 'Mailwarden - 1 - Inbound', exchangeGuid: 'g-in', parameters: { Name: 'Mailwarden - 1 - Inbound', ConnectorType: 'Partner', SenderDomains: ['*'], SenderIPAddresses: ['192.0.2.0/24', '198.51.100.7'], TlsSenderCertificateName: 'mx.mailwarden.example', RequireTls: true } },
    { kind: 'OUTBOUND_CONNECTOR', name: 'Mailwarden - 1 - Outbound', exchangeGuid: null, parameters: { Name: 'Mailwarden - 1 - Outbound', SmartHosts: ['mx.mailwarden.example'], TlsSettings: 'DomainValidation', IsTransportRuleScoped: true } },
    { kind: 'TRANSPORT_RULE', name: 'Mailwarden - 1 - Route', exchangeGuid: 'g-rule', parameters: { Name: 'Mailwarden - 1 - Route', Priority: 0, RouteMessageOutboundConnector: 'Mailwarden - 1 - Outbound', ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed', ExceptIfHeaderContainsWords: ['mx.mailwarden.example'], Mode: 'Enforce' } },
    { kind: 'ARC_TRUSTED_SEALER', name: 'arc.mailwarden.example', exchangeGuid: null, parameters: {} },
  ];
  const state = (): ExchangeMailflowState => ({
    // As Get-* answers: Exchange spellings (smtp:*;1), case and list order may differ, extra properties abound.
    inboundConnectors: [{ Name: 'Mailwarden - 1 - Inbound', Guid: 'g-in', ConnectorType: 'Partner', SenderDomains: ['smtp:*;1'], SenderIPAddresses: ['198.51.100.7', '192.0.2.0/24'], TlsSenderCertificateName: 'MX.mailwarden.example', RequireTls: true, Enabled: true }],
    outboundConnectors: [{ Name: 'Mailwarden - 1 - Outbound', Guid: 'g-out', SmartHosts: ['mx.mailwarden.example'], TlsSettings: 'DomainValidation', IsTransportRuleScoped: true, Enabled: true }],
    transportRules: [{ Name: 'Mailwarden - 1 - Route', Guid: 'g-rule', Priority: 0, State: 'Enabled', Mode: 'Enforce', RouteMessageOutboundConnector: 'Mailwarden - 1 - Outbound', ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed', ExceptIfHeaderContainsWords: ['mx.mailwarden.example'] }],
    arcTrustedSealers: ['partner.example', 'arc.mailwarden.example'],
  });

  it('should find nothing when Exchange Online holds what was created, whatever spelling it answers in', () => {
    expect(compareMailflowObjects(created, state())).toEqual([]);
  });

  it('should report a disabled connector and a disabled rule, and a rule switched to audit mode as changed', () => {
    const now = state();
    now.outboundConnectors[0]!.Enabled = false;
    now.transportRules[0]!.State = 'Disabled';
    now.transportRules[0]!.Mode = 'Audit';
    const differences = compareMailflowObjects(created, now);
    expect(differences.map((difference) => [difference.kind, difference.problem, difference.property])).toEqual([
      ['OUTBOUND_CONNECTOR', 'disabled', 'Enabled'],
      ['TRANSPORT_RULE', 'disabled', 'State'],
      ['TRANSPORT_RULE', 'changed', 'Mode'],
    ]);
    expect(describeDifference(differences[0]!)).toBe('OUTBOUND_CONNECTOR Mailwarden - 1 - Outbound is disabled (Enabled false)');
  });

  it('should report a changed priority apart from other changes, and a weakened loop exception', () => {
    const now = state();
    now.transportRules[0]!.Priority = 3;
    now.transportRules[0]!.ExceptIfHeaderContainsWords = [];
    now.inboundConnectors[0]!.SenderIPAddresses = ['192.0.2.0/24', '203.0.113.9'];
    expect(compareMailflowObjects(created, now).map((difference) => [difference.kind, difference.problem, difference.property, difference.actual])).toEqual([
      ['INBOUND_CONNECTOR', 'changed', 'SenderIPAddresses', ['192.0.2.0/24', '203.0.113.9']],
      ['TRANSPORT_RULE', 'priority-changed', 'Priority', 3],
      ['TRANSPORT_RULE', 'changed', 'ExceptIfHeaderContainsWords', []],
    ]);
  });

  it('should report a deleted object as missing, a re-created one as replaced, and a removed ARC sealer', () => {
    const now = state();
    now.transportRules = [];
    now.inboundConnectors[0]!.Guid = 'someone-elses';
    now.arcTrustedSealers = ['partner.example'];
    now.outboundConnectors.push({ Name: 'Mailwarden - 1 - Route', Enabled: true }); // same name, other kind: no match
    expect(compareMailflowObjects(created, now).map((difference) => [difference.kind, difference.problem])).toEqual([
      ['INBOUND_CONNECTOR', 'replaced'],
      ['TRANSPORT_RULE', 'missing'],
      ['ARC_TRUSTED_SEALER', 'missing'],
    ]);
  });
});
