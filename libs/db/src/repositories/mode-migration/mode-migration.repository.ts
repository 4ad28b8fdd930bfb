import { Injectable } from '@nestjs/common';
import type {
  MigrationKind,
  MigrationStepKind,
  ModeMigration,
  ModeMigrationStep,
  Prisma,
} from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import type { Db } from '../message/raw-message-store';
import { newestFirstAfter } from '../../pagination';
import type { CreatedAtKey } from '../../types/page.types';

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
 * Persisted mode migration plans (DESIGN.md §2): `mode_migration` and `mode_migration_step` only. What a plan reads
 * of other aggregates it reads through their repositories (account, domain, message history, Microsoft 365,
 * directory), inside the transaction of `withAccountLock`. `withAccountLock` serializes every change of one account's
 * migrations with a transaction-scoped advisory lock (`pg_advisory_xact_lock(hashtext(accountId))`).
 */
@Injectable()
export class ModeMigrationRepository {
  constructor(private readonly prisma: PrismaService) {}

  withAccountLock<T>(accountId: string, work: (tx: Prisma.TransactionClient) => Promise<T>, timeoutMs = 60_000): Promise<T> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${accountId}))`;
        return work(tx);
      },
      { timeout: timeoutMs, maxWait: 10_000 },
    );
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
      where: { accountId, ...newestFirstAfter(page.after) },
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

  /** The MX host the account's last migration that named one used (so a later plan does not ask again). */
  async lastGatewayMxHost(db: Db, accountId: string): Promise<string | null> {
    const rows = await db.$queryRaw<Array<{ host: string }>>`
      SELECT "params"->>'gatewayMxHost' AS "host" FROM "mode_migration"
      WHERE "account_id" = ${accountId}::uuid AND "params" ? 'gatewayMxHost'
      ORDER BY "created_at" DESC LIMIT 1`;
    return rows[0]?.host ?? null;
  }

  /** Steps queued for the mode-migration worker (RUNNING) of unfinished migrations: re-queued when a worker starts. */
  runningSteps(db: Db = this.prisma): Promise<Array<{ id: string; attempts: number; migrationId: string; accountId: string }>> {
    return db.$queryRaw`
      SELECT s."id", s."attempts", s."migration_id" AS "migrationId", m."account_id" AS "accountId"
      FROM "mode_migration_step" s JOIN "mode_migration" m ON m."id" = s."migration_id"
      WHERE s."status" = 'RUNNING' AND m."status" IN ('RUNNING', 'WAITING')`;
  }
}
