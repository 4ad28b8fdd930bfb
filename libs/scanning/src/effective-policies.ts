import type { Policy, MailboxTarget } from '@mailwarden/db';
import {
  buildPolicyLayers,
  domainOfAddress,
  resolveDataControlPolicy,
  resolveEmailSecurityPolicy,
  type DataControlSettings,
  type DataControlSettingsPatch,
  type EmailSecuritySettings,
  type EmailSecuritySettingsPatch,
} from '@mailwarden/policy';

export interface EffectivePolicies {
  emailSecurity: EmailSecuritySettings;
  dataControl: DataControlSettings;
}

export interface PolicyScopeContext {
  accountId: string;
  partnerId: string | null;
  /** The account's domains by lower-case name. */
  domainIds: ReadonlyMap<string, string>;
  mailboxes: ReadonlyMap<string, MailboxTarget>;
  policies: readonly Policy[];
}

/**
 * The effective Email Security and Data Control policies for one mailbox of the account, resolved top-down
 * (user, group, domain, account, partner locks above all: DESIGN.md §5).
 */
export function effectivePoliciesFor(address: string, context: PolicyScopeContext): EffectivePolicies {
  const email = address.toLowerCase();
  const domain = domainOfAddress(email);
  const mailbox = context.mailboxes.get(email);
  const target = {
    partnerId: context.partnerId,
    accountId: context.accountId,
    domainId: domain ? (context.domainIds.get(domain) ?? null) : null,
    groupIds: mailbox?.groupIds ?? [],
    userId: mailbox?.userId ?? null,
  };
  const rows = (kind: Policy['kind']) =>
    context.policies.filter((policy) => policy.kind === kind).map((policy) => ({ ...policy, scope: policy.scope }));
  return {
    emailSecurity: resolveEmailSecurityPolicy(buildPolicyLayers<EmailSecuritySettingsPatch>(rows('EMAIL_SECURITY'), target)).settings,
    dataControl: resolveDataControlPolicy(buildPolicyLayers<DataControlSettingsPatch>(rows('DATA_CONTROL'), target)).settings,
  };
}
