import { Injectable } from '@nestjs/common';
import type {
  Account,
  Domain,
  MailflowConnector,
  MessageSource,
  MigrationKind,
  MigrationStepKind,
  ModeMigration,
  ModeMigrationStep,
  Prisma,
} from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import type { Db } from '../message/raw-message-store';
import { newestFirstAfter } from '../../pagination';
import { AuditRepository } from '../audit/audit.repository';
import type { AuditEntry } from '../audit/audit.types';
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

  /**
   * The first message of the account received through one of `sources` at or after `since` whose envelope sender or
   * some recipient is in one of `domains` (lower-case): the migration checks look at the domains being moved only.
   */
  async firstMessageSince(
    db: Db,
    accountId: string,
    since: Date,
    sources: readonly MessageSource[],
    domains: readonly string[],
  ): Promise<{ id: string; receivedAt: Date; source: MessageSource } | null> {
    if (sources.length === 0 || domains.length === 0) {
      return null;
    }
    const rows = await db.$queryRaw<Array<{ id: string; receivedAt: Date; source: MessageSource }>>`
      SELECT "id", "received_at" AS "receivedAt", "source"::text AS "source" FROM "message"
      WHERE "account_id" = ${accountId}::uuid AND "received_at" >= ${since} AND "source"::text = ANY(${[...sources]}::text[])
        AND (lower(split_part("envelope_from", '@', 2)) = ANY(${[...domains]}::text[])
          OR EXISTS (SELECT 1 FROM unnest("envelope_to") AS "rcpt" WHERE lower(split_part("rcpt", '@', 2)) = ANY(${[...domains]}::text[])))
      ORDER BY "received_at" ASC LIMIT 1`;
    return rows[0] ?? null;
  }

  /** The MX host the account's last migration that named one used (so a later plan does not ask again). */
  async lastGatewayMxHost(db: Db, accountId: string): Promise<string | null> {
    const rows = await db.$queryRaw<Array<{ host: string }>>`
      SELECT "params"->>'gatewayMxHost' AS "host" FROM "mode_migration"
      WHERE "account_id" = ${accountId}::uuid AND "params" ? 'gatewayMxHost'
      ORDER BY "created_at" DESC LIMIT 1`;
    return rows[0]?.host ?? null;
  }

  findConnector(db: Db, accountId: string): Promise<MailflowConnector | null> {
    return db.mailflowConnector.findUnique({ where: { accountId } });
  }

  /** The account's Microsoft 365 tenant, if connected (mailflow plans automate Exchange Online for it). */
  async findM365TenantId(db: Db, accountId: string): Promise<string | null> {
    return (await db.m365Connection.findUnique({ where: { accountId }, select: { tenantId: true } }))?.tenantId ?? null;
  }

  /** A group of the account synced from Microsoft 365: its Graph id (Exchange matches members by it) and name. */
  async findSyncedGroup(db: Db, accountId: string, groupId: string): Promise<{ graphId: string; name: string } | null> {
    const mapped = await db.m365DirectoryObject.findUnique({ where: { accountId_kind_localId: { accountId, kind: 'GROUP', localId: groupId } } });
    const group = mapped ? await db.group.findFirst({ where: { id: groupId, accountId } }) : null;
    return mapped && group ? { graphId: mapped.graphId, name: group.name } : null;
  }

  /** Steps queued for the mode-migration worker (RUNNING) of unfinished migrations: re-queued when a worker starts. */
  runningSteps(db: Db = this.prisma): Promise<Array<{ id: string; attempts: number; migrationId: string; accountId: string }>> {
    return db.$queryRaw`
      SELECT s."id", s."attempts", s."migration_id" AS "migrationId", m."account_id" AS "accountId"
      FROM "mode_migration_step" s JOIN "mode_migration" m ON m."id" = s."migration_id"
      WHERE s."status" = 'RUNNING' AND m."status" IN ('RUNNING', 'WAITING')`;
  }
}
