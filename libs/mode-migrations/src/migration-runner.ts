import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  AccountRepository,
  AuditRepository,
  DirectoryRepository,
  DomainRepository,
  MailflowObjectRepository,
  MessageHistoryRepository,
  Microsoft365Repository,
  ModeMigrationRepository,
  type AuditActor,
  type CreatedAtKey,
  type ModeMigrationStep,
  type ModeMigrationWithSteps,
  type Prisma,
} from '@mailwarden/db';
import { AccountModeService } from '@mailwarden/accounts';
import { MailflowQuickTestLauncher, Microsoft365Service } from '@mailwarden/microsoft365';
import type { ModeMigrationStepJobData } from '@mailwarden/queue';
import { ModeMigrationQueue } from './mode-migration.queue';
import { journalAddress } from './journal-setup';
import { MigrationErrorCode, MigrationException } from './mode-migration.errors';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';
import type { CheckResult, MigrationParams, RemoteStepContext, StepContext, StepDefinition } from './migration-step.types';
import { buildPlan, DEFAULT_QUIET_PERIOD_MS, stepsFor, type PlanMigrationInput } from './plans/build-plan';

/**
 * Acknowledgements apply to the first manual step of the call that needs one and to no other: one flag never waves
 * a plan through several unverified steps at once.
 */
export interface AdvanceOptions {
  /** Accept a manual step whose check is not available yet (the admin did it by hand); recorded in the audit log. */
  acknowledgeUnverifiable?: boolean;
  /**
   * Accept a manual step whose check can run but has not passed (a wait not over, MX not changed yet): the step's
   * stated risk is recorded with the acknowledgement in the step result and the audit log.
   */
  acknowledgeRisk?: boolean;
}

const FINISHED = new Set(['COMPLETED', 'CANCELLED']);

/** A step the walk queued: enqueued once its transaction committed (the worker must see it RUNNING). */
type QueuedStep = ModeMigrationStepJobData & { attempts: number };

const isRemote = (definition: StepDefinition) => !!(definition.runRemote || definition.checkRemote);

/**
 * Plans, advances, retries and cancels account mode migrations (DESIGN.md §2). Every change of one account's
 * migrations runs inside `pg_advisory_xact_lock(hashtext(accountId))`, so two admins (or two API instances) never
 * walk one account's plan at once. Automated steps run inline when the plan is advanced and are idempotent; the
 * step's mode change, state, result and audit entry commit in one transaction, so a crash mid-step leaves nothing
 * half done and the step runs again. Mode changes go through AccountModeService (libs/accounts), the one path for
 * the mode rules, inside the step's transaction; the database triggers refuse anything that slips past and their
 * refusals become the same AccountRuleException.
 */
@Injectable()
export class ModeMigrationRunner {
  private readonly logger = new Logger(ModeMigrationRunner.name);
  private readonly now: () => Date;

  constructor(
    private readonly repository: ModeMigrationRepository,
    private readonly accountMode: AccountModeService,
    @Inject(MODE_MIGRATIONS_OPTIONS) private readonly options: ModeMigrationsOptions,
    private readonly mailflowObjects: MailflowObjectRepository,
    // What a plan reads of other aggregates, each through its own repository (in the plan's transaction).
    private readonly accounts: AccountRepository,
    private readonly domains: DomainRepository,
    private readonly messages: MessageHistoryRepository,
    private readonly microsoft365Connections: Microsoft365Repository,
    private readonly directory: DirectoryRepository,
    private readonly auditLog: AuditRepository,
    @Optional() private readonly microsoft365?: Microsoft365Service,
    @Optional() private readonly queue?: ModeMigrationQueue,
    /** The Microsoft 365 quick test (Microsoft365Module imported through forRoot); without it the manual check stays. */
    @Optional() private readonly quickTestLauncher?: MailflowQuickTestLauncher,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Exchange steps are automated when settings, the Microsoft app and the queue are all there. */
  private get automatesMailflow(): boolean {
    return !!this.options.mailflow && !!this.queue && this.microsoft365?.isConfigured === true;
  }

  /** Runs `work` under the account's lock; steps it queued are enqueued after the transaction committed. */
  private async locked(accountId: string, work: (tx: Prisma.TransactionClient, queued: QueuedStep[]) => Promise<ModeMigrationWithSteps>): Promise<ModeMigrationWithSteps> {
    const queued: QueuedStep[] = [];
    const result = await this.repository.withAccountLock(accountId, (tx) => work(tx, queued));
    for (const { attempts, ...data } of queued) {
      // A crash before this line leaves the step RUNNING without a job: a starting worker re-queues it.
      await this.queue!.enqueue(data, attempts);
    }
    return result;
  }

  async plan(accountId: string, input: PlanMigrationInput, actor: AuditActor): Promise<ModeMigrationWithSteps> {
    const migration = await this.repository.withAccountLock(accountId, async (tx) => {
      const account = await this.accounts.findWithDomains(accountId, tx);
      if (!account) {
        throw new MigrationException(MigrationErrorCode.AccountNotFound, `account ${accountId} not found`);
      }
      const active = await this.repository.findActive(tx, accountId);
      if (active) {
        throw new MigrationException(
          MigrationErrorCode.MigrationAlreadyActive,
          `migration ${active.id} (${active.kind}) is ${active.status}: complete or cancel it first`,
        );
      }
      const tenantId = this.automatesMailflow ? await this.microsoft365Connections.findTenantId(accountId, tx) : null;
      let group: { id: string; graphId: string; name: string } | undefined;
      if (input.mailflowGroupId !== undefined && tenantId) {
        const synced = await this.directory.findSyncedGroup(accountId, input.mailflowGroupId, tx);
        if (!synced) {
          throw new MigrationException(MigrationErrorCode.InvalidPlan, `group ${input.mailflowGroupId} is not a group of this account synced from Microsoft 365`);
        }
        group = { id: input.mailflowGroupId, ...synced };
      }
      const { params, steps } = buildPlan(
        account,
        account.domains,
        input,
        {
          gatewayMxHost: await this.repository.lastGatewayMxHost(tx, accountId),
          defaultQuietPeriodMs: this.options.journalQuietPeriodMs ?? DEFAULT_QUIET_PERIOD_MS,
        },
        tenantId ? { accountId, tenantId, group } : null,
      );
      const address = journalAddress(account.journalToken, this.options.journalDomain);
      const created = await this.repository.create(tx, {
        accountId,
        kind: input.kind,
        params: params as unknown as Prisma.InputJsonValue,
        steps: steps.map((step) => ({ key: step.key, kind: step.kind, instruction: step.instruction(params, address) })),
      });
      await this.audit(tx, actor, created, 'mode_migration.planned', null, { kind: created.kind, params: created.params, steps: created.steps.map((step) => step.key) });
      return created;
    });
    this.logger.log({ event: 'mode_migration.planned', accountId, migrationId: migration.id, kind: migration.kind });
    return migration;
  }

  async get(accountId: string, migrationId: string): Promise<ModeMigrationWithSteps> {
    const migration = await this.repository.findById(migrationId);
    if (!migration || migration.accountId !== accountId) {
      throw new MigrationException(MigrationErrorCode.MigrationNotFound, `migration ${migrationId} not found`);
    }
    return migration;
  }

  list(accountId: string, page: { after?: CreatedAtKey; limit: number }): Promise<ModeMigrationWithSteps[]> {
    return this.repository.list(accountId, page);
  }

  /** Runs the plan forward from its first unfinished step until a manual step waits for the admin, a step fails, or the end. */
  advance(accountId: string, migrationId: string, actor: AuditActor, options: AdvanceOptions = {}): Promise<ModeMigrationWithSteps> {
    return this.locked(accountId, async (tx, queued) => {
      const migration = await this.load(tx, accountId, migrationId);
      if (migration.status === 'FAILED') {
        const failed = migration.steps.find((step) => step.status === 'FAILED');
        throw new MigrationException(MigrationErrorCode.MigrationFailed, `step ${failed?.key ?? '?'} failed: retry it or cancel the migration`);
      }
      return this.walk(tx, migration, actor, options, queued);
    });
  }

  /**
   * Sets a FAILED step back to PENDING, or restarts a waiting manual step (its start moves to now, so a wait counts
   * again from the retry and "since the step started" checks look at what happens from here), then advances.
   */
  retry(accountId: string, migrationId: string, actor: AuditActor, options: AdvanceOptions = {}): Promise<ModeMigrationWithSteps> {
    return this.locked(accountId, async (tx, queued) => {
      const migration = await this.load(tx, accountId, migrationId);
      const step = migration.steps.find((candidate) => candidate.status === 'FAILED' || candidate.status === 'WAITING_FOR_ADMIN');
      if (!step) {
        throw new MigrationException(MigrationErrorCode.NothingToRetry, 'no step failed or waits for the admin');
      }
      if (step.status === 'FAILED') {
        await this.repository.updateStep(tx, step.id, { status: 'PENDING' });
        await this.repository.updateMigration(tx, migration.id, { status: 'RUNNING' });
        await this.audit(tx, actor, migration, 'mode_migration.step_retried', { step: step.key, status: step.status, lastError: step.lastError }, { step: step.key, status: 'PENDING' });
      } else {
        const restartedAt = this.now();
        await this.repository.updateStep(tx, step.id, { startedAt: restartedAt });
        await this.audit(
          tx,
          actor,
          migration,
          'mode_migration.step_retried',
          { step: step.key, status: step.status, startedAt: step.startedAt?.toISOString() ?? null },
          { step: step.key, status: step.status, startedAt: restartedAt.toISOString() },
        );
      }
      return this.walk(tx, await this.load(tx, accountId, migrationId), actor, options, queued);
    });
  }

  /**
   * The worker's side of a queued step (QueueName.ModeMigration): reads the step under the account's lock, calls
   * Exchange Online WITHOUT holding the lock (Retry-After waits must not block the admin's calls; every Exchange
   * change is idempotent and recorded at once), then records the outcome under the lock and walks on. A step that is
   * no longer RUNNING with the same attempt count (cancelled, or already recorded by another run) is left alone.
   */
  async runQueuedStep(job: ModeMigrationStepJobData): Promise<string> {
    const actor: AuditActor = { actor: job.actor, actorKeyId: job.actorKeyId };
    const prepared = await this.repository.withAccountLock(job.accountId, async (tx) => {
      const migration = await this.repository.find(tx, job.accountId, job.migrationId);
      const step = migration?.steps.find((candidate) => candidate.id === job.stepId);
      if (!migration || !step || step.status !== 'RUNNING' || FINISHED.has(migration.status)) {
        return null;
      }
      const params = migration.params as unknown as MigrationParams;
      const definition = stepsFor(migration.kind, params).find((candidate) => candidate.key === step.key);
      const account = await this.accounts.findWithDomains(job.accountId, tx);
      if (!definition || !isRemote(definition) || !account || !params.mailflow) {
        return null;
      }
      return { migration, step, params, definition, account };
    });
    if (!prepared) {
      return 'nothing to do';
    }
    const { migration, step, definition } = prepared;
    let outcome: { kind: 'done'; result: Prisma.InputJsonValue } | { kind: 'check'; check: CheckResult } | { kind: 'failed'; error: string };
    try {
      const context: RemoteStepContext = {
        migrationId: migration.id,
        account: prepared.account,
        params: prepared.params as RemoteStepContext['params'],
        exchange: this.microsoft365!.exchange(prepared.params.mailflow!.tenantId),
        settings: this.options.mailflow!,
        objects: this.mailflowObjects,
        now: this.now(),
      };
      outcome = definition.runRemote ? { kind: 'done', result: await definition.runRemote(context) } : { kind: 'check', check: await definition.checkRemote!(context) };
    } catch (error) {
      outcome = { kind: 'failed', error: (error as Error).message };
    }
    const after = await this.locked(job.accountId, async (tx, queued) => {
      const current = await this.repository.find(tx, job.accountId, job.migrationId);
      const now = current?.steps.find((candidate) => candidate.id === step.id);
      if (!current || !now || now.status !== 'RUNNING' || now.attempts !== step.attempts || FINISHED.has(current.status)) {
        return current!;
      }
      const startedAt = now.startedAt ?? this.now();
      if (outcome.kind === 'check') {
        const done = await this.recordCheck(tx, current, now, startedAt, actor, outcome.check, false, undefined);
        if (!done) {
          return (await this.repository.find(tx, current.accountId, current.id))!;
        }
      } else {
        const recorded = await this.runAutomated(tx, current, now, startedAt, actor, async () => {
          if (outcome.kind === 'failed') {
            throw new Error(outcome.error);
          }
          return outcome.result;
        });
        if (!recorded) {
          return (await this.repository.find(tx, current.accountId, current.id))!;
        }
      }
      return this.walk(tx, (await this.repository.find(tx, current.accountId, current.id))!, actor, {}, queued);
    });
    return after?.steps.find((candidate) => candidate.id === step.id)?.status ?? 'gone';
  }

  /** Re-queues steps left RUNNING without a job (a crash between the commit and the enqueue); returns how many. */
  async requeueRunningSteps(): Promise<number> {
    if (!this.queue) {
      return 0;
    }
    const steps = await this.repository.runningSteps();
    for (const step of steps) {
      // Same job id as the lost one: ignored while that job still exists.
      await this.queue.enqueue({ accountId: step.accountId, migrationId: step.migrationId, stepId: step.id, actor: 'mode-migration-worker', actorKeyId: null }, step.attempts);
    }
    return steps.length;
  }


  /** Stops the plan: unfinished steps are SKIPPED; what was done stays done (plan the reverse migration to undo it). */
  cancel(accountId: string, migrationId: string, actor: AuditActor): Promise<ModeMigrationWithSteps> {
    return this.repository.withAccountLock(accountId, async (tx) => {
      const migration = await this.load(tx, accountId, migrationId);
      for (const step of migration.steps) {
        if (step.status !== 'DONE' && step.status !== 'SKIPPED') {
          await this.repository.updateStep(tx, step.id, { status: 'SKIPPED' });
        }
      }
      await this.repository.updateMigration(tx, migration.id, { status: 'CANCELLED', completedAt: this.now() });
      await this.audit(tx, actor, migration, 'mode_migration.cancelled', { status: migration.status }, { status: 'CANCELLED' });
      this.logger.log({ event: 'mode_migration.cancelled', accountId, migrationId });
      return (await this.repository.find(tx, accountId, migrationId))!;
    });
  }

  private async load(tx: Prisma.TransactionClient, accountId: string, migrationId: string): Promise<ModeMigrationWithSteps> {
    const migration = await this.repository.find(tx, accountId, migrationId);
    if (!migration) {
      throw new MigrationException(MigrationErrorCode.MigrationNotFound, `migration ${migrationId} not found`);
    }
    if (FINISHED.has(migration.status)) {
      throw new MigrationException(MigrationErrorCode.MigrationFinished, `migration ${migrationId} is ${migration.status}`);
    }
    return migration;
  }

  private async walk(tx: Prisma.TransactionClient, migration: ModeMigrationWithSteps, actor: AuditActor, options: AdvanceOptions, queued: QueuedStep[]): Promise<ModeMigrationWithSteps> {
    const params = migration.params as unknown as MigrationParams;
    const definitions = new Map(stepsFor(migration.kind, params).map((definition) => [definition.key, definition]));
    if (migration.status !== 'RUNNING') {
      await this.repository.updateMigration(tx, migration.id, { status: 'RUNNING' });
    }
    let acknowledgementUsed = false;
    for (const step of migration.steps) {
      if (step.status === 'DONE' || step.status === 'SKIPPED') {
        continue;
      }
      const definition = definitions.get(step.key);
      if (!definition) {
        throw new Error(`migration ${migration.id}: no definition for step ${step.key}`);
      }
      const now = this.now();
      const startedAt = step.startedAt ?? now;
      if (isRemote(definition)) {
        // A waiting Exchange check the admin acknowledges: its stored report is the evidence, nothing is re-read.
        const last = step.result as unknown as CheckResult | null;
        if (step.status === 'WAITING_FOR_ADMIN' && last && !last.passed && options.acknowledgeRisk === true && !!definition.risk && !acknowledgementUsed) {
          acknowledgementUsed = true;
          await this.recordCheck(tx, migration, step, startedAt, actor, last, true, definition.risk);
          continue;
        }
        if (!this.queue) {
          throw new MigrationException(MigrationErrorCode.InvalidPlan, `step ${step.key} calls Exchange Online but no mode-migration queue is configured`);
        }
        if (step.status !== 'RUNNING') {
          await this.repository.updateStep(tx, step.id, { status: 'RUNNING', startedAt, lastError: null });
          await this.audit(tx, actor, migration, 'mode_migration.step_queued', { step: step.key, status: step.status }, { step: step.key, status: 'RUNNING' });
        }
        await this.repository.updateMigration(tx, migration.id, { status: 'RUNNING' });
        queued.push({ accountId: migration.accountId, migrationId: migration.id, stepId: step.id, actor: actor.actor, actorKeyId: actor.actorKeyId, attempts: step.attempts });
        return (await this.repository.find(tx, migration.accountId, migration.id))!;
      }
      const context = await this.context(tx, migration.accountId, params, startedAt, now);
      if (definition.kind === 'AUTOMATED') {
        const outcome = await this.runAutomated(tx, migration, step, startedAt, actor, () => definition.run!(context));
        if (!outcome) {
          return (await this.repository.find(tx, migration.accountId, migration.id))!;
        }
        continue;
      }
      const check = await definition.check!(context);
      // One acknowledgement per call, for the first manual step that needs one: see AdvanceOptions.
      const unverifiable: boolean = !check.passed && !check.available && options.acknowledgeUnverifiable === true && !acknowledgementUsed;
      const risked: boolean = !check.passed && check.available && options.acknowledgeRisk === true && !!definition.risk && !acknowledgementUsed;
      acknowledgementUsed = acknowledgementUsed || unverifiable || risked;
      const done = await this.recordCheck(tx, migration, step, startedAt, actor, check, unverifiable || risked, risked ? definition.risk : undefined);
      if (!done) {
        return (await this.repository.find(tx, migration.accountId, migration.id))!;
      }
    }
    await this.repository.updateMigration(tx, migration.id, { status: 'COMPLETED', completedAt: this.now() });
    await this.audit(tx, actor, migration, 'mode_migration.completed', { status: migration.status }, { status: 'COMPLETED' });
    this.logger.log({ event: 'mode_migration.completed', accountId: migration.accountId, migrationId: migration.id, kind: migration.kind });
    return (await this.repository.find(tx, migration.accountId, migration.id))!;
  }

  /** Records a manual step's check (passed or acknowledged: DONE; else WAITING_FOR_ADMIN and the plan waits). */
  private async recordCheck(
    tx: Prisma.TransactionClient,
    migration: ModeMigrationWithSteps,
    step: ModeMigrationStep,
    startedAt: Date,
    actor: AuditActor,
    check: CheckResult,
    acknowledged: boolean,
    risk: string | undefined,
  ): Promise<boolean> {
    const done = check.passed || acknowledged;
    const result = { ...check, acknowledgedByAdmin: acknowledged, ...(risk ? { acknowledgedRisk: risk } : {}) } as unknown as Prisma.InputJsonValue;
    await this.repository.updateStep(tx, step.id, { status: done ? 'DONE' : 'WAITING_FOR_ADMIN', startedAt, completedAt: done ? this.now() : null, attempts: { increment: 1 }, result });
    await this.audit(tx, actor, migration, done ? 'mode_migration.step_completed' : 'mode_migration.step_checked', { step: step.key, status: step.status }, { step: step.key, status: done ? 'DONE' : 'WAITING_FOR_ADMIN', result });
    if (!done) {
      await this.repository.updateMigration(tx, migration.id, { status: 'WAITING' });
    }
    return done;
  }

  /** Runs one automated step; false when it failed (the step and the migration are then FAILED, with the error). */
  private async runAutomated(
    tx: Prisma.TransactionClient,
    migration: ModeMigrationWithSteps,
    step: ModeMigrationStep,
    startedAt: Date,
    actor: AuditActor,
    run: () => Promise<Prisma.InputJsonValue>,
  ): Promise<boolean> {
    try {
      const result = await run();
      await this.repository.updateStep(tx, step.id, { status: 'DONE', startedAt, completedAt: this.now(), attempts: { increment: 1 }, result, lastError: null });
      await this.audit(tx, actor, migration, 'mode_migration.step_completed', { step: step.key, status: step.status }, { step: step.key, status: 'DONE', result });
      return true;
    } catch (error) {
      const message = (error as Error).message;
      await this.repository.updateStep(tx, step.id, { status: 'FAILED', startedAt, attempts: { increment: 1 }, lastError: message });
      await this.repository.updateMigration(tx, migration.id, { status: 'FAILED' });
      await this.audit(tx, actor, migration, 'mode_migration.step_failed', { step: step.key, status: step.status }, { step: step.key, status: 'FAILED', error: message });
      this.logger.warn({ event: 'mode_migration.step_failed', accountId: migration.accountId, migrationId: migration.id, step: step.key, error: message });
      return false;
    }
  }

  private async context(tx: Prisma.TransactionClient, accountId: string, params: MigrationParams, startedAt: Date, now: Date): Promise<StepContext> {
    // Re-read before each step so every step sees what the previous ones changed.
    const account = await this.accounts.findWithDomains(accountId, tx);
    if (!account) {
      throw new MigrationException(MigrationErrorCode.AccountNotFound, `account ${accountId} not found`);
    }
    const launcher = this.quickTestLauncher;
    const testedDomains = params.domains.filter((domain) => account.domains.some((current) => current.id === domain.id));
    const quickTest =
      launcher && testedDomains.length > 0 && (await launcher.available(accountId, tx))
        ? {
            latest: (since: Date) => launcher.latest(accountId, testedDomains.map((domain) => domain.id), since, tx),
            start: () => launcher.start({ accountId, domainId: testedDomains[0]!.id, domain: testedDomains[0]!.name, requestedBy: 'system:mode-migration' }, tx),
          }
        : null;
    return {
      account,
      params,
      startedAt,
      now,
      mailflowQuickTest: quickTest,
      resolveDns: this.options.resolveDns,
      journalAddress: journalAddress(account.journalToken, this.options.journalDomain),
      quietPeriodMs: params.quietPeriodMs ?? this.options.journalQuietPeriodMs ?? DEFAULT_QUIET_PERIOD_MS,
      firstMessageSince: (since, sources) =>
        this.messages.firstMessageSince(accountId, since, sources, params.domains.map((domain) => domain.name.toLowerCase()), tx),
      findConnector: () => this.domains.findConnector(accountId, tx),
      // libs/accounts holds the one path for mode rules; the change commits with the step record.
      setDomain: (domainId, change) => this.accountMode.changeDomainInTx(tx, accountId, domainId, change),
      setMonitorOnly: (monitorOnly) => this.accountMode.changeMonitorOnlyInTx(tx, accountId, monitorOnly),
      mailflowObjects: () => this.mailflowObjects.list(accountId, tx),
    };
  }

  private async audit(
    tx: Prisma.TransactionClient,
    actor: AuditActor,
    migration: { id: string; accountId: string },
    action: string,
    before: Prisma.InputJsonValue | null,
    after: Prisma.InputJsonValue | null,
  ): Promise<void> {
    await this.auditLog.append({ ...actor, accountId: migration.accountId, action, objectType: 'mode_migration', objectId: migration.id, before, after }, tx);
  }
}

export type { CheckResult };
