import { AccountRuleException } from './account-rules.errors';
import { classifyDirection, isInScope, recipientScope } from './message-direction';

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
