import { AccountRuleException } from './account-rules.errors';
import { classifyDirection, decideDirection, isInScope, recipientScope } from './message-direction';

const own = ['acme.example', 'acme-corp.example'];

describe(classifyDirection.name, () => {
  it.each([
    ['internal: sender and every recipient are the account’s', 'ann@acme.example', ['bob@acme-corp.example', 'cy@acme.example'], 'INTERNAL'],
    ['outbound: own sender, one outside recipient', 'ann@acme.example', ['bob@acme.example', 'x@partner.example'], 'OUTBOUND'],
    ['inbound: outside sender, own recipient', 'x@partner.example', ['ann@acme.example'], 'INBOUND'],
    ['inbound: outside sender, mixed recipients', 'x@partner.example', ['ann@acme.example', 'y@other.example'], 'INBOUND'],
    ['external: neither side', 'x@partner.example', ['y@other.example'], 'EXTERNAL'],
    ['case-insensitive with brackets and root dot', '<Ann@ACME.Example.>', ['BOB@Acme.EXAMPLE'], 'INTERNAL'],
    ['subdomain is not the account’s unless listed', 'ann@eu.acme.example', ['bob@acme.example'], 'INBOUND'],
    ['subdomain recipient is outside', 'ann@acme.example', ['bob@eu.acme.example'], 'OUTBOUND'],
    ['null sender <> to own recipient', '<>', ['ann@acme.example'], 'INBOUND'],
    ['null sender as null', null, ['ann@acme.example'], 'INBOUND'],
    ['null sender as empty string', '', ['x@other.example'], 'EXTERNAL'],
  ] as const)('should classify %s', (_case, sender, recipients, direction) => {
    expect(classifyDirection(own, sender, recipients)).toBe(direction);
  });

  it('should accept domains in any case and refuse an empty recipient list', () => {
    expect(classifyDirection(['ACME.example.'], 'a@acme.example', ['b@acme.example'])).toBe('INTERNAL');
    expect(() => classifyDirection(own, 'a@acme.example', [])).toThrow(AccountRuleException);
  });
});

describe(isInScope.name, () => {
  it('should scan verified domains only', () => {
    expect(isInScope({ verificationStatus: 'VERIFIED' })).toBe(true);
    expect(isInScope({ verificationStatus: 'PENDING' })).toBe(false);
    expect(isInScope({ verificationStatus: 'FAILED' })).toBe(false);
  });
});

describe(recipientScope.name, () => {
  const domains = [
    { name: 'acme.example', verificationStatus: 'VERIFIED' as const },
    { name: 'new.example', verificationStatus: 'PENDING' as const },
  ];

  it('should tell in-scope, unverified and unknown recipients apart', () => {
    expect(recipientScope(domains, 'Ann@ACME.example')).toEqual({ status: 'IN_SCOPE', domain: domains[0] });
    expect(recipientScope(domains, 'x@new.example')).toEqual({ status: 'UNVERIFIED', domain: domains[1] });
    expect(recipientScope(domains, 'x@sub.acme.example')).toEqual({ status: 'UNKNOWN' });
    expect(recipientScope(domains, 'postmaster')).toEqual({ status: 'UNKNOWN' });
  });
});

describe(decideDirection.name, () => {
  const edge = { enteredFromOutside: true, basis: 'provider-edge-hop' as const, detail: 'from mail.evil.example (203.0.113.9) by X.mail.protection.outlook.com' };
  const inside = { enteredFromOutside: false, basis: 'no-provider-edge-hop' as const };

  it('should make an own-domain spoof that crossed the provider edge INBOUND, and say why', () => {
    const decision = decideDirection(own, 'ceo@acme.example', ['bob@acme.example'], edge);
    expect(decision).toEqual({
      direction: 'INBOUND',
      envelopeDirection: 'INTERNAL',
      enteredFromOutside: true,
      basis: 'provider-edge-hop',
      detail: edge.detail,
      rule: expect.stringMatching(/entered from outside \(provider-edge-hop\) although the envelope sender claims one of the account's domains: INBOUND, not INTERNAL/),
    });
  });

  it('should keep a message that never crossed the edge INTERNAL when both sides are the account\'s', () => {
    expect(decideDirection(own, 'ann@acme.example', ['bob@acme-corp.example'], inside)).toMatchObject({ direction: 'INTERNAL', envelopeDirection: 'INTERNAL', detail: null });
    expect(decideDirection(own, 'ann@acme.example', ['x@partner.example'], inside).direction).toBe('OUTBOUND');
  });

  it('should not trust the own sender domain of mail from outside to outside recipients (EXTERNAL), nor change honest inbound', () => {
    expect(decideDirection(own, 'ann@acme.example', ['x@partner.example'], edge).direction).toBe('EXTERNAL');
    expect(decideDirection(own, 'ann@acme.example', ['bob@acme.example', 'x@partner.example'], edge).direction).toBe('INBOUND');
    expect(decideDirection(own, 'x@partner.example', ['bob@acme.example'], edge)).toMatchObject({ direction: 'INBOUND', envelopeDirection: 'INBOUND' });
  });

  it('should apply the same rule to the gateway: any client but the tenant connector is outside', () => {
    const gateway = { enteredFromOutside: true, basis: 'gateway-client' as const, detail: '198.51.100.7' };
    expect(decideDirection(own, 'ceo@acme.example', ['bob@acme.example'], gateway).direction).toBe('INBOUND');
    const connector = { enteredFromOutside: false, basis: 'tenant-connector' as const };
    expect(decideDirection(own, 'ceo@acme.example', ['bob@acme.example'], connector).direction).toBe('INTERNAL');
  });
});
