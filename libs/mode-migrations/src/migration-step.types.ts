import type { Account, Domain, DomainMode, MigrationKind, MigrationStepKind, Prisma } from '@mailwarden/db';
import type { MigrationDnsResolve } from './mode-migrations.options';

/** Plan parameters stored in ModeMigration.params. */
export interface MigrationParams {
  domains: Array<{ id: string; name: string; mode: DomainMode }>;
  targetMode?: 'GATEWAY' | 'MAILFLOW';
  /** Mailwarden's MX host: where gateway domains' MX must (or must no longer) point. */
  gatewayMxHost?: string;
}

/** The outcome of a manual step's check, stored as the step's result (evidence). */
export interface CheckResult {
  passed: boolean;
  /** False when Mailwarden cannot verify this step yet (the check is not built); the admin may acknowledge it. */
  available: boolean;
  message: string;
  evidence: Prisma.InputJsonValue;
}

export interface StepContext {
  account: Account & { domains: Domain[] };
  params: MigrationParams;
  /** When the step was first started (manual checks look at what happened after it). */
  startedAt: Date;
  now: Date;
  resolveDns: MigrationDnsResolve;
  journalAddress: string;
  journalQuietPeriodMs: number;
  firstJournalMessageSince(since: Date): Promise<{ id: string; receivedAt: Date; envelopeTo: string[] } | null>;
  setDomainMode(domainId: string, mode: DomainMode): Promise<Domain>;
  setMonitorOnly(monitorOnly: boolean): Promise<Account>;
}

export interface StepDefinition {
  key: string;
  kind: MigrationStepKind;
  /** What the admin must do (manual steps); shown when the plan is inspected. */
  instruction(params: MigrationParams, journalAddress: string): string | null;
  /** Automated steps: does the work; idempotent (a re-run after a crash changes nothing more). */
  run?(context: StepContext): Promise<Prisma.InputJsonValue>;
  /** Manual steps: proves the admin's work done. */
  check?(context: StepContext): Promise<CheckResult>;
}

export interface MigrationPlanDefinition {
  kind: MigrationKind;
  steps: StepDefinition[];
}
