import { Injectable } from '@nestjs/common';
import type {
  Account,
  Domain,
  DomainMode,
  MigrationKind,
  MigrationStepKind,
  ModeMigration,
  ModeMigrationStep,
  Prisma,
} from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import type { Db } from '../raw-message-store';
import { AuditRepository, type AuditEntry } from './audit.repository';
import type { CreatedAtKey } from './tenant.repository';

export type ModeMigrationWithSteps = ModeMigration & { steps: ModeMigrationStep[] };

export interface NewMigrationStep {
  key: string;
  kind: MigrationStepKind;
  instruction: string | null;
}

const WITH_STEPS = { steps: { orderBy: { position: 'asc' as const } } };

/** Migrations that are not finished: at most one per account. */
export const ACTIVE_MIGRATION_STATUSES = ['PLANNED', 'RUNNING', 'WAITING', 'FAILED'] as const;

/**
 * Persisted mode migration plans (DESIGN.md §2). `withAccountLock` serializes every change of one account's
 * migrations with a transaction-scoped advisory lock (`pg_advisory_xact_lock(hashtext(accountId))`).
 */
@Injectable()
export class ModeMigrationRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  withAccountLock<T>(accountId: string, work: (tx: Prisma.TransactionClient) => Promise<T>, timeoutMs = 60_000): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${accountId}))`;
        return work(tx);
      },
      { timeout: timeoutMs, maxWait: 10_000 },
    );
  }

  appendAudit(tx: Db, entry: AuditEntry): Promise<unknown> {
    return this.audit.append(entry, tx);
  }

  findAccount(tx: Db, accountId: string): Promise<(Account & { domains: Domain[] }) | null> {
    return tx.account.findUnique({ where: { id: accountId }, include: { domains: { orderBy: { name: 'asc' } } } });
  }

  findActive(tx: Db, accountId: string): Promise<ModeMigration | null> {
    return tx.modeMigration.findFirst({ where: { accountId, status: { in: [...ACTIVE_MIGRATION_STATUSES] } } });
  }

  create(tx: Db, input: { accountId: string; kind: MigrationKind; params: Prisma.InputJsonValue; steps: NewMigrationStep[] }): Promise<ModeMigrationWithSteps> {
    return tx.modeMigration.create({
      data: {
        accountId: input.accountId,
        kind: input.kind,
        params: input.params,
        steps: { create: input.steps.map((step, position) => ({ ...step, position })) },
      },
      include: WITH_STEPS,
    });
  }

  find(db: Db, accountId: string, migrationId: string): Promise<ModeMigrationWithSteps | null> {
    return db.modeMigration.findFirst({ where: { id: migrationId, accountId }, include: WITH_STEPS });
  }

  findById(migrationId: string): Promise<ModeMigrationWithSteps | null> {
    return this.prisma.modeMigration.findUnique({ where: { id: migrationId }, include: WITH_STEPS });
  }

  list(accountId: string, page: { after?: CreatedAtKey; limit: number }): Promise<ModeMigrationWithSteps[]> {
    return this.prisma.modeMigration.findMany({
      where: {
        accountId,
        ...(page.after
          ? { OR: [{ createdAt: { lt: page.after.createdAt } }, { createdAt: page.after.createdAt, id: { lt: page.after.id } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
      include: WITH_STEPS,
    });
  }

  updateMigration(tx: Db, migrationId: string, data: Prisma.ModeMigrationUpdateInput): Promise<ModeMigration> {
    return tx.modeMigration.update({ where: { id: migrationId }, data });
  }

  updateStep(tx: Db, stepId: string, data: Prisma.ModeMigrationStepUpdateInput): Promise<ModeMigrationStep> {
    return tx.modeMigrationStep.update({ where: { id: stepId }, data });
  }

  /** Locks the account row (FOR UPDATE), in the order the mode triggers lock it, before mode changes in `tx`. */
  async lockAccountRow(tx: Prisma.TransactionClient, accountId: string): Promise<void> {
    await tx.$queryRaw`SELECT "id" FROM "account" WHERE "id" = ${accountId}::uuid FOR UPDATE`;
  }

  updateDomainMode(tx: Prisma.TransactionClient, domainId: string, mode: DomainMode): Promise<Domain> {
    return tx.domain.update({ where: { id: domainId }, data: { mode } });
  }

  updateMonitorOnly(tx: Prisma.TransactionClient, accountId: string, monitorOnly: boolean): Promise<Account> {
    return tx.account.update({ where: { id: accountId }, data: { monitorOnly } });
  }

  /** Runs `work` inside a savepoint: a refused statement rolls back to it and leaves the transaction usable. */
  async inSavepoint<T>(tx: Prisma.TransactionClient, work: () => Promise<T>): Promise<T> {
    await tx.$executeRawUnsafe('SAVEPOINT mode_migration_step');
    try {
      const result = await work();
      await tx.$executeRawUnsafe('RELEASE SAVEPOINT mode_migration_step');
      return result;
    } catch (error) {
      await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT mode_migration_step');
      throw error;
    }
  }

  /** The first journal copy of the account received at or after `since` (the "journal test message" check). */
  firstJournalMessageSince(db: Db, accountId: string, since: Date): Promise<{ id: string; receivedAt: Date; envelopeTo: string[] } | null> {
    return db.message.findFirst({
      where: { accountId, source: 'JOURNAL', receivedAt: { gte: since } },
      orderBy: { receivedAt: 'asc' },
      select: { id: true, receivedAt: true, envelopeTo: true },
    });
  }
}
