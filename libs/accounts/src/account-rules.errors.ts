/** Why a mode change was refused; stable API names (the admin API maps them to problem+json). */
export enum AccountRuleCode {
  /** GATEWAY or MAILFLOW asked for while the account is monitor-only (DESIGN.md §2: JOURNAL only). */
  MonitorOnlyAllowsJournalOnly = 'MONITOR_ONLY_ALLOWS_JOURNAL_ONLY',
  /** monitor-only asked for while domains are still in GATEWAY or MAILFLOW mode. */
  EnforcingDomainsPresent = 'ENFORCING_DOMAINS_PRESENT',
  /** The domain name is already connected to this account as another row (it would be scanned twice). */
  DomainAlreadyConnected = 'DOMAIN_ALREADY_CONNECTED',
  /** The domain row given does not belong to the account given. */
  DomainNotInAccount = 'DOMAIN_NOT_IN_ACCOUNT',
  AccountNotFound = 'ACCOUNT_NOT_FOUND',
  DomainNotFound = 'DOMAIN_NOT_FOUND',
  InvalidInput = 'INVALID_INPUT',
}

export class AccountRuleException extends Error {
  constructor(
    readonly code: AccountRuleCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AccountRuleException';
  }
}

/** Constraint names the database triggers raise with (libs/db migration 20261125160000_domain_mode_rules). */
export const DB_CONSTRAINT_TO_CODE: Readonly<Record<string, AccountRuleCode>> = {
  domain_mode_requires_enforced_account: AccountRuleCode.MonitorOnlyAllowsJournalOnly,
  account_monitor_only_requires_journal_domains: AccountRuleCode.EnforcingDomainsPresent,
};

/**
 * Recognises the refusal of one of the mode triggers in an error thrown by the database driver or Prisma, which
 * wraps it (the SQLSTATE and message are kept, the constraint name may not be): returns the rule code, or null.
 */
export function accountRuleCodeOfDatabaseError(error: unknown): AccountRuleCode | null {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const candidate = current as { constraint?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (typeof candidate.constraint === 'string' && DB_CONSTRAINT_TO_CODE[candidate.constraint]) {
      return DB_CONSTRAINT_TO_CODE[candidate.constraint];
    }
    if (typeof candidate.message === 'string') {
      if (/cannot be set to \w+ mode: account \S+ is monitor-only/.test(candidate.message)) {
        return AccountRuleCode.MonitorOnlyAllowsJournalOnly;
      }
      if (/cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains/.test(candidate.message)) {
        return AccountRuleCode.EnforcingDomainsPresent;
      }
    }
    current = candidate.cause ?? candidate.meta?.driverAdapterError;
  }
  return null;
}
