import type { MailboxTarget, Policy } from '@mailwarden/db';
import { buildPolicyLayers, resolveDataControlPolicy, resolveEmailSecurityPolicy, type DataControlSettingsPatch, type EmailSecuritySettingsPatch } from '@mailwarden/policy';
import { effectivePoliciesFor, type PolicyScopeContext } from './effective-policies';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const DOMAIN = '00000000-0000-4000-8000-0000000000d1';
const USER = '00000000-0000-4000-8000-0000000000e1';

function policy(kind: Policy['kind'], scope: Policy['scope'], scopeId: string, settings: object): Policy {
  const now = new Date();
  return { id: `${kind}-${scope}`, kind, scope, partnerId: null, accountId: ACCOUNT, scopeId, settings, locks: [], createdAt: now, updatedAt: now } as Policy;
}

const policies: Policy[] = [
  policy('EMAIL_SECURITY', 'ACCOUNT', ACCOUNT, { senderChecks: { spf: { action: 'QUARANTINE' } }, allowList: { domains: ['partner.example'] } }),
  policy('EMAIL_SECURITY', 'USER', USER, { subjectTag: '[user]' }),
  policy('DATA_CONTROL', 'DOMAIN', DOMAIN, { enabled: true }),
];

function context(rows: readonly Policy[], mailboxes: Map<string, MailboxTarget> = new Map()): PolicyScopeContext {
  return { accountId: ACCOUNT, partnerId: null, domainIds: new Map([['customer.example', DOMAIN]]), mailboxes, policies: rows };
}

/** What effectivePoliciesFor resolved before it remembered anything: the policy lib over the same layers. */
function resolvedDirectly(rows: readonly Policy[], target: { domainId: string | null; userId: string | null; groupIds: string[] }) {
  const full = { partnerId: null, accountId: ACCOUNT, ...target };
  const of = (kind: Policy['kind']) => rows.filter((row) => row.kind === kind);
  return {
    emailSecurity: resolveEmailSecurityPolicy(buildPolicyLayers<EmailSecuritySettingsPatch>(of('EMAIL_SECURITY'), full)).settings,
    dataControl: resolveDataControlPolicy(buildPolicyLayers<DataControlSettingsPatch>(of('DATA_CONTROL'), full)).settings,
  };
}

describe(effectivePoliciesFor.name, () => {
  const user = new Map<string, MailboxTarget>([['bob@customer.example', { userId: USER, groupIds: [] } as unknown as MailboxTarget]]);

  it('should resolve each mailbox as the policy lib does, user, domain and account levels included', () => {
    expect(effectivePoliciesFor('Bob@Customer.example', context(policies, user))).toEqual(resolvedDirectly(policies, { domainId: DOMAIN, userId: USER, groupIds: [] }));
    expect(effectivePoliciesFor('carol@customer.example', context(policies, user))).toEqual(resolvedDirectly(policies, { domainId: DOMAIN, userId: null, groupIds: [] }));
    expect(effectivePoliciesFor('dave@elsewhere.example', context(policies))).toEqual(resolvedDirectly(policies, { domainId: null, userId: null, groupIds: [] }));
    expect(effectivePoliciesFor('bob@customer.example', context(policies, user)).emailSecurity.subjectTag).toBe('[user]');
  });

  it('should resolve a target once per set of policy rows and hand out the same frozen result', () => {
    const first = effectivePoliciesFor('carol@customer.example', context(policies));
    const again = effectivePoliciesFor('erin@customer.example', context(policies)); // same target: domain, no mailbox
    expect(again).toBe(first);
    expect(Object.isFrozen(first.emailSecurity.senderChecks.spf)).toBe(true);
    expect(Object.isFrozen(first.emailSecurity.allowList.domains)).toBe(true);
    expect(() => {
      (first.emailSecurity.allowList.domains as string[]).push('evil.example');
    }).toThrow(/not extensible/);
    // other rows (a policy changed: the cache loads a new array) are resolved afresh
    const changed = [...policies.slice(0, 2), policy('DATA_CONTROL', 'DOMAIN', DOMAIN, { enabled: false })];
    expect(effectivePoliciesFor('carol@customer.example', context(changed)).dataControl.enabled).toBe(false);
    expect(effectivePoliciesFor('carol@customer.example', context(policies)).dataControl.enabled).toBe(true);
  });

  it('should tell targets apart by user and groups, not only by domain', () => {
    const grouped = new Map<string, MailboxTarget>([['gina@customer.example', { userId: null, groupIds: ['g1'] } as unknown as MailboxTarget]]);
    const plain = effectivePoliciesFor('carol@customer.example', context(policies, user));
    expect(effectivePoliciesFor('bob@customer.example', context(policies, user))).not.toBe(plain);
    expect(effectivePoliciesFor('gina@customer.example', context(policies, grouped))).not.toBe(plain);
  });
});
