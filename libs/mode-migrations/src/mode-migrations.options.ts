/** Resolves like `dns.promises.resolve(name, rrtype)`; rejects with a coded error (ENOTFOUND, ENODATA, ETIMEOUT…). */
export type MigrationDnsResolve = (name: string, rrtype: string) => Promise<unknown[]>;

export const MODE_MIGRATIONS_OPTIONS = Symbol('MODE_MIGRATIONS_OPTIONS');

export interface ModeMigrationsOptions {
  /** DNS for the MX checks (injectable so tests can answer). */
  resolveDns: MigrationDnsResolve;
  /** Host part of every account's journal address (JOURNAL_DOMAIN). */
  journalDomain: string;
  /**
   * Default quiet period of a plan's wait steps (journal rules removed, old path drained) when the plan does not set
   * `quietPeriodSeconds`. Default 10 minutes.
   */
  journalQuietPeriodMs?: number;
  now?: () => Date;
}
