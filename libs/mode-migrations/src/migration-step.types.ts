import type { Account, Domain, DomainMode, MailflowConnector, MailflowObject, MailflowObjectRepository, MessageSource, MigrationKind, MigrationStepKind, Prisma } from '@mailwarden/db';
import type { ExchangeOnlineClient } from '@mailwarden/microsoft365';
import type { MailflowAutomationSettings, MailflowObjectNames } from './mailflow/mailflow-objects';
import type { MigrationDnsResolve } from './mode-migrations.options';

/** Plan parameters stored in ModeMigration.params. */
export interface MigrationParams {
  /** The domains being moved, with the mode each had when the plan was made (its old path). */
  domains: Array<{ id: string; name: string; mode: DomainMode }>;
  targetMode?: 'GATEWAY' | 'MAILFLOW';
  /** Mailwarden's MX host: where gateway domains' MX must (or must no longer) point. */
  gatewayMxHost?: string;
  /**
   * How long the old path must stay quiet (no journal copy, no gateway or connector message of the domains being
   * moved) before the wait steps pass. Per plan; default 10 minutes. Plans stored before it existed lack it.
   */
  quietPeriodMs?: number;
  /**
   * Set when the plan was made for an account with a Microsoft 365 connection while Exchange automation was
   * configured: the Exchange Online steps are run by Mailwarden (queued jobs) instead of asked of the admin.
   */
  mailflow?: {
    tenantId: string;
    names: MailflowObjectNames;
    /** Only members of this group synced from Microsoft 365 are routed (else every recipient of the domains). */
    group?: { id: string; graphId: string; name: string };
  };
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
  /** When the step was (last re)started: manual checks look at what happened after it. */
  startedAt: Date;
  now: Date;
  resolveDns: MigrationDnsResolve;
  journalAddress: string;
  /** The plan's quiet period (params.quietPeriodMs, else the module's default). */
  quietPeriodMs: number;
  /** The first message of the plan's domains received through one of `sources` since `since`. */
  firstMessageSince(since: Date, sources: readonly MessageSource[]): Promise<{ id: string; receivedAt: Date; source: MessageSource } | null>;
  /**
   * The quick test through Exchange Online (issue 16) for an account with a Microsoft 365 connection; null without
   * one (the step then keeps its manual check and acknowledgement).
   */
  mailflowQuickTest: MailflowQuickTestAccess | null;
  /** The account's registered Microsoft 365 connector, if any. */
  findConnector(): Promise<MailflowConnector | null>;
  /** Changes a domain's mode and/or transition mode through libs/accounts' one path for mode rules. */
  setDomain(domainId: string, change: { mode?: DomainMode; transitionMode?: DomainMode | null }): Promise<Domain>;
  setMonitorOnly(monitorOnly: boolean): Promise<Account>;
  /** The Exchange Online objects recorded as created by Mailwarden for the account. */
  mailflowObjects(): Promise<MailflowObject[]>;
}

/** What a step that calls Exchange Online gets; it runs in the mode-migration worker, outside the account's lock. */
export interface RemoteStepContext {
  migrationId: string;
  account: Account & { domains: Domain[] };
  params: MigrationParams & { mailflow: NonNullable<MigrationParams['mailflow']> };
  exchange: ExchangeOnlineClient;
  settings: MailflowAutomationSettings;
  /** Records are written at once (not with the step), so an object created just before a crash is not forgotten. */
  objects: MailflowObjectRepository;
  now: Date;
}

/** A recorded quick test as a step reads it (libs/microsoft365 MailflowQuickTestLauncher). */
export interface MailflowQuickTestRecord {
  id: string;
  status: 'RUNNING' | 'PASSED' | 'FAILED';
  failedHop: string | null;
  hops: Prisma.JsonValue;
  recipient: string;
  exchangeSmtp: string;
  internetMessageId: string;
  createdAt: Date;
}

export interface MailflowQuickTestAccess {
  /** The newest quick test of the plan's domains since `since`. */
  latest(since: Date): Promise<MailflowQuickTestRecord | null>;
  /** Records a quick test of the plan's first domain (committed with the step) and queues it for the scanner. */
  start(): Promise<MailflowQuickTestRecord>;
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
  /** Automated steps that call Exchange Online: queued on QueueName.ModeMigration, run by the worker. */
  runRemote?(context: RemoteStepContext): Promise<Prisma.InputJsonValue>;
  /** Manual steps whose check calls Exchange Online: queued like `runRemote`; the admin acknowledges or retries. */
  checkRemote?(context: RemoteStepContext): Promise<CheckResult>;
  /**
   * Manual steps whose check can run: what may go wrong when the admin acknowledges the step although its check has
   * not passed (`acknowledgeRisk`); recorded with the acknowledgement.
   */
  risk?: string;
}

export interface MigrationPlanDefinition {
  kind: MigrationKind;
  steps: StepDefinition[];
}
