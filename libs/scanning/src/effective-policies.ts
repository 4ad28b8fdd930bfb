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

/** Targets remembered per set of policy rows; past this many the set's memo starts over (a bound, not an LRU). */
export const MAX_RESOLVED_TARGETS = 10_000;

/**
 * Resolved policies by the rows they came from and the mailbox target. The rows are the array ScanContextCache keeps
 * per account for its TTL (a changed policy arrives as a new array, resolved afresh); every message to the same kind
 * of mailbox resolved the same layers again, ~100 µs of Node CPU per message (issue 20, tools/bench/README.md "Node CPU
 * of a scan"). The results are deep-frozen: callers share them and must not change them.
 */
const resolvedByRows = new WeakMap<readonly Policy[], Map<string, EffectivePolicies>>();

/**
 * The effective Email Security and Data Control policies for one mailbox of the account, resolved top-down
 * (user, group, domain, account, partner locks above all: DESIGN.md §5). The same rows and target give the same
 * (frozen) object.
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
  const key = JSON.stringify([target.partnerId, target.accountId, target.domainId, target.userId, target.groupIds]);
  let byTarget = resolvedByRows.get(context.policies);
  if (!byTarget) {
    byTarget = new Map();
    resolvedByRows.set(context.policies, byTarget);
  }
  let resolved = byTarget.get(key);
  if (!resolved) {
    const rows = (kind: Policy['kind']) =>
      context.policies.filter((policy) => policy.kind === kind).map((policy) => ({ ...policy, scope: policy.scope }));
    resolved = deepFreeze({
      emailSecurity: resolveEmailSecurityPolicy(buildPolicyLayers<EmailSecuritySettingsPatch>(rows('EMAIL_SECURITY'), target)).settings,
      dataControl: resolveDataControlPolicy(buildPolicyLayers<DataControlSettingsPatch>(rows('DATA_CONTROL'), target)).settings,
    });
    if (byTarget.size >= MAX_RESOLVED_TARGETS) {
      byTarget.clear();
    }
    byTarget.set(key, resolved);
  }
  return resolved;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
  }
  return value;
}
