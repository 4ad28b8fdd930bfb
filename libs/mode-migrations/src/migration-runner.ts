import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ModeMigrationRepository,
  type AuditActor,
  type CreatedAtKey,
  type ModeMigrationStep,
  type ModeMigrationWithSteps,
  type Prisma,
} from '@mailwarden/db';
import {
  AccountRuleCode,
  AccountRuleException,
  accountRuleCodeOfDatabaseError,
  canSetDomainMode,
  canSetMonitorOnly,
  type RuleCheck,
} from '@mailwarden/accounts';
import { journalAddress } from './journal-setup';
import { MigrationErrorCode, MigrationException } from './mode-migration.errors';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';
import type { CheckResult, MigrationParams, StepContext } from './migration-step.types';
import { buildPlan, stepsFor, type PlanMigrationInput } from './plans/build-plan';

export interface AdvanceOptions {
  /** Accept manual steps whose check is not available yet (the admin did them by hand); recorded in the audit log. */
  acknowledgeUnverifiable?: boolean;
}

const DEFAULT_QUIET_PERIOD_MS = 10 * 60_000;

function assertAllowed(check: RuleCheck): void {
  if (!check.ok) {
    throw new AccountRuleException(check.code, check.reason);
  }
}
const FINISHED = new Set(['COMPLETED', 'CANCELLED']);

/**
 * Plans, advances, retries and cancels account mode migrations (DESIGN.md §2). Every change of one account's
 * migrations runs inside `pg_advisory_xact_lock(hashtext(accountId))`, so two admins (or two API instances) never
 * walk one account's plan at once. Automated steps run inline when the plan is advanced and are idempotent; the
 * step's mode change, state, result and audit entry commit in one transaction, so a crash mid-step leaves nothing
 * half done and the step runs again. Mode changes are checked with the rules of libs/accounts (canSetDomainMode,
 * canSetMonitorOnly, the same AccountModeService applies) under the account row lock, and the database triggers
 * refuse anything that slips past; their refusals become the same AccountRuleException.
 */
@Injectable()
export class ModeMigrationRunner {
  private readonly logger = new Logger(ModeMigrationRunner.name);
  private readonly now: () => Date;

  constructor(
    private readonly repository: ModeMigrationRepository,
    @Inject(MODE_MIGRATIONS_OPTIONS) private readonly options: ModeMigrationsOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async plan(accountId: string, input: PlanMigrationInput, actor: AuditActor): Promise<ModeMigrationWithSteps> {
    const migration = await this.repository.withAccountLock(accountId, async (tx) => {
      const account = await this.repository.findAccount(tx, accountId);
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
      const { params, steps } = buildPlan(account, account.domains, input);
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
    return this.repository.withAccountLock(accountId, async (tx) => {
      const migration = await this.load(tx, accountId, migrationId);
      if (migration.status === 'FAILED') {
        const failed = migration.steps.find((step) => step.status === 'FAILED');
        throw new MigrationException(MigrationErrorCode.MigrationFailed, `step ${failed?.key ?? '?'} failed: retry it or cancel the migration`);
      }
      return this.walk(tx, migration, actor, options);
    });
  }

  /** Sets a FAILED step back to PENDING (or re-checks a waiting manual step) and advances. */
  retry(accountId: string, migrationId: string, actor: AuditActor, options: AdvanceOptions = {}): Promise<ModeMigrationWithSteps> {
    return this.repository.withAccountLock(accountId, async (tx) => {
      const migration = await this.load(tx, accountId, migrationId);
      const step = migration.steps.find((candidate) => candidate.status === 'FAILED' || candidate.status === 'WAITING_FOR_ADMIN');
      if (!step) {
        throw new MigrationException(MigrationErrorCode.NothingToRetry, 'no step failed or waits for the admin');
      }
      if (step.status === 'FAILED') {
        await this.repository.updateStep(tx, step.id, { status: 'PENDING' });
        await this.repository.updateMigration(tx, migration.id, { status: 'RUNNING' });
        await this.audit(tx, actor, migration, 'mode_migration.step_retried', { step: step.key, status: step.status, lastError: step.lastError }, { step: step.key, status: 'PENDING' });
      }
      return this.walk(tx, await this.load(tx, accountId, migrationId), actor, options);
    });
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

  private async walk(tx: Prisma.TransactionClient, migration: ModeMigrationWithSteps, actor: AuditActor, options: AdvanceOptions): Promise<ModeMigrationWithSteps> {
    const params = migration.params as unknown as MigrationParams;
    const definitions = new Map(stepsFor(migration.kind, params).map((definition) => [definition.key, definition]));
    if (migration.status !== 'RUNNING') {
      await this.repository.updateMigration(tx, migration.id, { status: 'RUNNING' });
    }
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
      const context = await this.context(tx, migration.accountId, params, startedAt, now);
      if (definition.kind === 'AUTOMATED') {
        const outcome = await this.runAutomated(tx, migration, step, startedAt, actor, () => definition.run!(context));
        if (!outcome) {
          return (await this.repository.find(tx, migration.accountId, migration.id))!;
        }
        continue;
      }
      const check = await definition.check!(context);
      const acknowledged = !check.passed && !check.available && options.acknowledgeUnverifiable === true;
      const done = check.passed || acknowledged;
      const result = { ...check, acknowledgedByAdmin: acknowledged } as unknown as Prisma.InputJsonValue;
      await this.repository.updateStep(tx, step.id, {
        status: done ? 'DONE' : 'WAITING_FOR_ADMIN',
        startedAt,
        completedAt: done ? now : null,
        attempts: { increment: 1 },
        result,
      });
      await this.audit(tx, actor, migration, done ? 'mode_migration.step_completed' : 'mode_migration.step_checked', { step: step.key, status: step.status }, { step: step.key, status: done ? 'DONE' : 'WAITING_FOR_ADMIN', result });
      if (!done) {
        await this.repository.updateMigration(tx, migration.id, { status: 'WAITING' });
        return (await this.repository.find(tx, migration.accountId, migration.id))!;
      }
    }
    await this.repository.updateMigration(tx, migration.id, { status: 'COMPLETED', completedAt: this.now() });
    await this.audit(tx, actor, migration, 'mode_migration.completed', { status: migration.status }, { status: 'COMPLETED' });
    this.logger.log({ event: 'mode_migration.completed', accountId: migration.accountId, migrationId: migration.id, kind: migration.kind });
    return (await this.repository.find(tx, migration.accountId, migration.id))!;
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
    const account = await this.repository.findAccount(tx, accountId);
    if (!account) {
      throw new MigrationException(MigrationErrorCode.AccountNotFound, `account ${accountId} not found`);
    }
    return {
      account,
      params,
      startedAt,
      now,
      resolveDns: this.options.resolveDns,
      journalAddress: journalAddress(account.journalToken, this.options.journalDomain),
      journalQuietPeriodMs: this.options.journalQuietPeriodMs ?? DEFAULT_QUIET_PERIOD_MS,
      firstJournalMessageSince: (since) => this.repository.firstJournalMessageSince(tx, accountId, since),
      setDomainMode: (domainId, mode) =>
        this.changeMode(tx, accountId, async (current) => {
          const domain = current.domains.find((candidate) => candidate.id === domainId);
          if (!domain) {
            throw new AccountRuleException(AccountRuleCode.DomainNotFound, `domain ${domainId} not found`);
          }
          assertAllowed(canSetDomainMode(current, domain, mode, new Map(current.domains.map((candidate) => [candidate.name, candidate]))));
          const updated = await this.repository.updateDomainMode(tx, domainId, mode);
          this.logger.log({ event: 'account.domain_mode_changed', accountId, domainId, from: domain.mode, to: mode });
          return updated;
        }),
      setMonitorOnly: (monitorOnly) =>
        this.changeMode(tx, accountId, async (current) => {
          assertAllowed(canSetMonitorOnly(current, current.domains, monitorOnly));
          const updated = await this.repository.updateMonitorOnly(tx, accountId, monitorOnly);
          this.logger.log({ event: 'account.monitor_only_changed', accountId, monitorOnly });
          return updated;
        }),
    };
  }

  /**
   * A mode change inside the step's transaction: account row locked first (the triggers' lock order), the current
   * rows re-read, a refused statement rolled back to a savepoint and reported as AccountRuleException.
   */
  private async changeMode<T>(
    tx: Prisma.TransactionClient,
    accountId: string,
    change: (current: NonNullable<Awaited<ReturnType<ModeMigrationRepository['findAccount']>>>) => Promise<T>,
  ): Promise<T> {
    await this.repository.lockAccountRow(tx, accountId);
    const current = await this.repository.findAccount(tx, accountId);
    if (!current) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    try {
      return await this.repository.inSavepoint(tx, () => change(current));
    } catch (error) {
      const code = error instanceof AccountRuleException ? null : accountRuleCodeOfDatabaseError(error);
      if (code === null) {
        throw error;
      }
      throw new AccountRuleException(code, (error as Error).message, { cause: error });
    }
  }

  private async audit(
    tx: Prisma.TransactionClient,
    actor: AuditActor,
    migration: { id: string; accountId: string },
    action: string,
    before: Prisma.InputJsonValue | null,
    after: Prisma.InputJsonValue | null,
  ): Promise<void> {
    await this.repository.appendAudit(tx, { ...actor, accountId: migration.accountId, action, objectType: 'mode_migration', objectId: migration.id, before, after });
  }
}

export type { CheckResult };
