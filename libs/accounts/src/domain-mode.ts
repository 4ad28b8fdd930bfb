import type { Account, Domain, DomainMode } from '@mailwarden/db';
import { AccountRuleCode } from './account-rules.errors';

export type AccountModeView = Pick<Account, 'id' | 'monitorOnly'>;
export type DomainModeView = Pick<Domain, 'id' | 'accountId' | 'name' | 'mode'>;

/** The domain a mode is asked for: an existing row (with id) or a name about to be connected. */
export interface DomainModeCandidate {
  id?: string;
  accountId?: string;
  name: string;
}

export type RuleCheck = { ok: true } | { ok: false; code: AccountRuleCode; reason: string };

const OK: RuleCheck = Object.freeze({ ok: true });
const refuse = (code: AccountRuleCode, reason: string): RuleCheck => ({ ok: false, code, reason });

/** Domain names are stored lower-case without the root dot (the unique indexes on domain.name rely on it). */
export function normalizeDomainName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Modes that put Mailwarden in the delivery path (and so act on mail): not allowed while monitor-only. */
export function isEnforcingMode(mode: DomainMode): boolean {
  return mode === 'GATEWAY' || mode === 'MAILFLOW';
}

// Typed as a record over DomainMode so that a new mode in the schema fails to compile until it is handled here.
const DOMAIN_MODE_SET: Record<DomainMode, true> = { JOURNAL: true, GATEWAY: true, MAILFLOW: true };
const DOMAIN_MODES: readonly string[] = Object.keys(DOMAIN_MODE_SET);

function lookup(
  domainsByName: ReadonlyMap<string, DomainModeView> | Readonly<Record<string, DomainModeView>> | undefined,
  name: string,
): DomainModeView | undefined {
  if (!domainsByName) {
    return undefined;
  }
  if (domainsByName instanceof Map) {
    return domainsByName.get(name);
  }
  const record = domainsByName as Readonly<Record<string, DomainModeView>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/**
 * May `domain` be put in `mode` for `account`? (DESIGN.md §2)
 * - GATEWAY and MAILFLOW are refused while the account is monitor-only (JOURNAL is the only mode allowed then);
 * - a domain is never in two modes of one account: when `otherDomainsByName` (existing rows keyed by lower-case
 *   name) holds the name as another row of this account, the change is refused (changing the mode of the existing
 *   row itself is the way to move a domain between modes). Rows of other accounts are no conflict: adding a name
 *   claims nothing, only verification does, and at most one account holds a name verified (the database's
 *   "domain_name_verified_key"); so nothing here tells one account about another's domains.
 * Pure; the database enforces the same rules with triggers and the unique indexes on domain.
 */
export function canSetDomainMode(
  account: AccountModeView,
  domain: DomainModeCandidate,
  mode: DomainMode,
  otherDomainsByName?: ReadonlyMap<string, DomainModeView> | Readonly<Record<string, DomainModeView>>,
): RuleCheck {
  const name = normalizeDomainName(domain.name);
  if (name === '') {
    return refuse(AccountRuleCode.InvalidInput, 'the domain name is empty');
  }
  if (!DOMAIN_MODES.includes(mode)) {
    return refuse(AccountRuleCode.InvalidInput, `unknown domain mode "${String(mode)}" (expected ${DOMAIN_MODES.join(', ')})`);
  }
  if (domain.accountId !== undefined && domain.accountId !== account.id) {
    return refuse(AccountRuleCode.DomainNotInAccount, `domain ${name} belongs to another account than ${account.id}`);
  }
  const existing = lookup(otherDomainsByName, name);
  if (existing && existing.id !== domain.id && existing.accountId === account.id) {
    return refuse(
      AccountRuleCode.DomainAlreadyConnected,
      `domain ${name} is already connected to this account in ${existing.mode} mode; change that domain's mode instead`,
    );
  }
  if (account.monitorOnly && isEnforcingMode(mode)) {
    return refuse(
      AccountRuleCode.MonitorOnlyAllowsJournalOnly,
      `domain ${name} cannot be set to ${mode} mode while the account is monitor-only (JOURNAL only); turn monitor-only off first`,
    );
  }
  return OK;
}

/**
 * May the account's monitor-only flag be set to `monitorOnly`? Turning it on is refused while any of the
 * account's domains is in GATEWAY or MAILFLOW mode (Advanced → monitor-only moves the domains back to JOURNAL
 * first); turning it off is always allowed.
 */
export function canSetMonitorOnly(account: AccountModeView, domains: readonly DomainModeView[], monitorOnly: boolean): RuleCheck {
  if (!monitorOnly) {
    return OK;
  }
  const enforcing = domains
    .filter((domain) => domain.accountId === account.id && isEnforcingMode(domain.mode))
    .map((domain) => `${domain.name} (${domain.mode})`)
    .sort();
  if (enforcing.length > 0) {
    return refuse(
      AccountRuleCode.EnforcingDomainsPresent,
      `the account cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains: ${enforcing.join(', ')}; move them back to JOURNAL first`,
    );
  }
  return OK;
}
