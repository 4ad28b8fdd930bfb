/** Resolves like `dns.promises.resolve(name, rrtype)`; rejects with a coded error (ENOTFOUND, ENODATA, ETIMEOUT…). */
export type MigrationDnsResolve = (name: string, rrtype: string) => Promise<unknown[]>;

import type { MailflowAutomationSettings } from './mailflow/mailflow-objects';
import type { ModeMigrationWorkerOptions } from './mode-migration.queue';

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
  /**
   * Exchange Online automation of the mailflow plans (issue 16): with these settings, a Microsoft app
   * (Microsoft365Module imported through `forRoot(options, [microsoft365Module])`) and `queue`, plans of accounts with
   * a Microsoft 365 connection create and remove the connectors and the transport rule themselves.
   */
  mailflow?: MailflowAutomationSettings;
  /**
   * With it, steps that call Exchange Online are queued on QueueName.ModeMigration through the app's JobQueues
   * (QueueModule: connection, prefix, job defaults); these are its worker's settings.
   */
  queue?: ModeMigrationWorkerOptions;
  /** Run the worker of those steps in this process (the admin API does; default false). */
  runWorker?: boolean;
  /** Minutes between the tamper checks of each account with Mailwarden-created Exchange objects (default 15). */
  tamperCheckMinutes?: number;
  /** How soon an account whose Exchange objects were just created gets its scheduled check (default 60 s). */
  tamperReconcileMs?: number;
}
