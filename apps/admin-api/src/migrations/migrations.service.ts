import { Injectable } from '@nestjs/common';
import type { ModeMigrationWithSteps } from '@mailwarden/db';
import { ModeMigrationRunner } from '@mailwarden/mode-migrations';
import { createdAtAfter, createdAtCursor } from '../accounts/accounts.service';
import { pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { AdvanceMigrationDto } from './dto/advance-migration.dto';
import type { MigrationDto } from './dto/migration.dto';
import type { PlanMigrationDto } from './dto/plan-migration.dto';

export function toMigrationDto(migration: ModeMigrationWithSteps): MigrationDto {
  return {
    id: migration.id,
    accountId: migration.accountId,
    kind: migration.kind,
    status: migration.status,
    params: migration.params as object,
    steps: migration.steps.map((step) => ({
      position: step.position,
      key: step.key,
      kind: step.kind,
      status: step.status,
      instruction: step.instruction,
      result: (step.result as object | null) ?? null,
      attempts: step.attempts,
      lastError: step.lastError,
      startedAt: step.startedAt?.toISOString() ?? null,
      completedAt: step.completedAt?.toISOString() ?? null,
    })),
    createdAt: migration.createdAt.toISOString(),
    updatedAt: migration.updatedAt.toISOString(),
    completedAt: migration.completedAt?.toISOString() ?? null,
  };
}

/** The only way monitor-only and domain modes change through the API: persisted migration plans (DESIGN.md §2). */
@Injectable()
export class MigrationsService {
  constructor(
    private readonly runner: ModeMigrationRunner,
    private readonly access: TenantAccess,
  ) {}

  async plan(principal: Principal, accountId: string, dto: PlanMigrationDto): Promise<MigrationDto> {
    await this.access.account(principal, accountId);
    return toMigrationDto(await this.runner.plan(accountId, dto, actorOf(principal)));
  }

  async list(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<MigrationDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const rows = await this.runner.list(accountId, { after: createdAtAfter(query.cursor), limit: limit + 1 });
    return toPage(rows, limit, createdAtCursor, toMigrationDto);
  }

  async get(principal: Principal, accountId: string, migrationId: string): Promise<MigrationDto> {
    await this.access.account(principal, accountId);
    return toMigrationDto(await this.runner.get(accountId, migrationId));
  }

  async advance(principal: Principal, accountId: string, migrationId: string, dto: AdvanceMigrationDto): Promise<MigrationDto> {
    await this.access.account(principal, accountId);
    return toMigrationDto(await this.runner.advance(accountId, migrationId, actorOf(principal), dto));
  }

  async retry(principal: Principal, accountId: string, migrationId: string, dto: AdvanceMigrationDto): Promise<MigrationDto> {
    await this.access.account(principal, accountId);
    return toMigrationDto(await this.runner.retry(accountId, migrationId, actorOf(principal), dto));
  }

  async cancel(principal: Principal, accountId: string, migrationId: string): Promise<MigrationDto> {
    await this.access.account(principal, accountId);
    return toMigrationDto(await this.runner.cancel(accountId, migrationId, actorOf(principal)));
  }
}
