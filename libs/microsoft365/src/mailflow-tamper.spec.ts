import { compareMailflowObjects, describeDifference, normalizeCmdletValue, type CreatedMailflowObject, type ExistingMailflowObject } from './mailflow-tamper';

describe(compareMailflowObjects.name, () => {
  const created: CreatedMailflowObject[] = [
    { kind: 'InboundConnector', name: 'Mailwarden Inbound', parameters: { Name: 'Mailwarden Inbound', ConnectorType: 'Partner', SenderIPAddresses: ['192.0.2.0/24', '198.51.100.7'], TlsSenderCertificateName: 'mx.mailwarden.example', RequireTls: true, Enabled: true } },
    { kind: 'OutboundConnector', name: 'Mailwarden Outbound', parameters: { Name: 'Mailwarden Outbound', SmartHosts: ['mx.mailwarden.example'], TlsSettings: 'DomainValidation', IsTransportRuleScoped: true } },
    { kind: 'TransportRule', name: 'Mailwarden route', parameters: { Name: 'Mailwarden route', Priority: 0, RouteMessageOutboundConnector: 'Mailwarden Outbound', ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed', ExceptIfHeaderContainsWords: ['mx.mailwarden.example'], Enabled: true } },
  ];
  const existing = (): ExistingMailflowObject[] => [
    // As Get-* answers: case and list order may differ, booleans may be strings, extra properties abound.
    { kind: 'InboundConnector', name: 'mailwarden inbound', properties: { Identity: 'Mailwarden Inbound', ConnectorType: 'partner', SenderIPAddresses: ['198.51.100.7', '192.0.2.0/24'], TlsSenderCertificateName: 'MX.mailwarden.example', RequireTls: 'True', Enabled: true, Comment: null } },
    { kind: 'OutboundConnector', name: 'Mailwarden Outbound', properties: { SmartHosts: ['mx.mailwarden.example'], TlsSettings: 'DomainValidation', IsTransportRuleScoped: true, Enabled: true } },
    { kind: 'TransportRule', name: 'Mailwarden route', properties: { Priority: 0, State: 'Enabled', Mode: 'Enforce', RouteMessageOutboundConnector: 'Mailwarden Outbound', ExceptIfHeaderContainsMessageHeader: 'X-Mailwarden-Processed', ExceptIfHeaderContainsWords: ['mx.mailwarden.example'] } },
  ];

  it('should find nothing when Exchange Online holds what was created, whatever case and list order it answers in', () => {
    expect(compareMailflowObjects(created, existing())).toEqual([]);
  });

  it('should report a disabled connector and a rule in audit mode as disabled', () => {
    const now = existing();
    now[1]!.properties.Enabled = false;
    now[2]!.properties.Mode = 'Audit';
    const differences = compareMailflowObjects(created, now);
    expect(differences).toEqual([
      expect.objectContaining({ kind: 'OutboundConnector', problem: 'disabled', property: 'Enabled', actual: false }),
      expect.objectContaining({ kind: 'TransportRule', problem: 'disabled', property: 'Mode', actual: 'Audit' }),
    ]);
    expect(describeDifference(differences[0]!)).toBe('OutboundConnector Mailwarden Outbound is disabled (Enabled false)');
  });

  it('should report a changed priority apart from other changes, and a removed exception', () => {
    const now = existing();
    now[2]!.properties.Priority = 3;
    now[2]!.properties.ExceptIfHeaderContainsWords = null;
    now[0]!.properties.SenderIPAddresses = ['192.0.2.0/24', '203.0.113.9'];
    const differences = compareMailflowObjects(created, now);
    expect(differences.map((difference) => [difference.kind, difference.problem, difference.property])).toEqual([
      ['InboundConnector', 'changed', 'SenderIPAddresses'],
      ['TransportRule', 'priority-changed', 'Priority'],
      ['TransportRule', 'changed', 'ExceptIfHeaderContainsWords'],
    ]);
  });

  it('should report an object that is gone as missing, and not confuse a same-named object of another kind', () => {
    const now = existing().filter((object) => object.kind !== 'TransportRule');
    now.push({ kind: 'InboundConnector', name: 'Mailwarden route', properties: { Enabled: true } });
    expect(compareMailflowObjects(created, now)).toEqual([{ kind: 'TransportRule', name: 'Mailwarden route', problem: 'missing', property: null, expected: 'present', actual: null }]);
  });
});

describe(normalizeCmdletValue.name, () => {
  it('should treat empty values alike and PowerShell booleans as booleans', () => {
    expect(normalizeCmdletValue([])).toBeNull();
    expect(normalizeCmdletValue('')).toBeNull();
    expect(normalizeCmdletValue(undefined)).toBeNull();
    expect(normalizeCmdletValue('$true')).toBe(true);
    expect(normalizeCmdletValue(['B', 'a'])).toEqual(['a', 'b']);
  });
});
