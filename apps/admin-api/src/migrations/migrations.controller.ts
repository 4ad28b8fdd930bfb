import { Body, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { AdvanceMigrationDto } from './dto/advance-migration.dto';
import { MigrationDto } from './dto/migration.dto';
import { MigrationPageDto } from './dto/migration-page.dto';
import { PlanMigrationDto } from './dto/plan-migration.dto';
import { MigrationsService } from './migrations.service';

@AdminController('mode-migrations', 'v1/accounts/:accountId/mode-migrations')
export class MigrationsController {
  constructor(private readonly migrations: MigrationsService) {}

  @Post()
  @ApiOperation({ operationId: 'planMigration', summary: 'Plan a mode migration (the only way to change monitor-only and domain modes)' })
  @ApiCreatedResponse({ type: MigrationDto })
  @ApiConflict('MIGRATION_ALREADY_ACTIVE or WRONG_STARTING_MODE')
  plan(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: PlanMigrationDto): Promise<MigrationDto> {
    return this.migrations.plan(principal, accountId, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listMigrations', summary: 'Mode migrations of the account, newest first' })
  @ApiOkResponse({ type: MigrationPageDto })
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<MigrationPageDto> {
    return this.migrations.list(principal, accountId, query);
  }

  @Get(':migrationId')
  @ApiOperation({ operationId: 'getMigration', summary: 'Inspect a migration: every step with its status, instruction and evidence' })
  @ApiOkResponse({ type: MigrationDto })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('migrationId', ParseUUIDPipe) migrationId: string,
  ): Promise<MigrationDto> {
    return this.migrations.get(principal, accountId, migrationId);
  }

  @Post(':migrationId/advance')
  @HttpCode(200)
  @ApiOperation({ operationId: 'advanceMigration', summary: 'Run automated steps and check manual ones until a step waits for the admin or the plan ends' })
  @ApiOkResponse({ type: MigrationDto })
  @ApiConflict('MIGRATION_FINISHED or MIGRATION_FAILED')
  advance(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('migrationId', ParseUUIDPipe) migrationId: string,
    @Body() dto: AdvanceMigrationDto,
  ): Promise<MigrationDto> {
    return this.migrations.advance(principal, accountId, migrationId, dto);
  }

  @Post(':migrationId/retry')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retryMigration', summary: 'Retry the failed step (or re-check the waiting one), then advance' })
  @ApiOkResponse({ type: MigrationDto })
  @ApiConflict('MIGRATION_FINISHED or NOTHING_TO_RETRY')
  retry(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('migrationId', ParseUUIDPipe) migrationId: string,
    @Body() dto: AdvanceMigrationDto,
  ): Promise<MigrationDto> {
    return this.migrations.retry(principal, accountId, migrationId, dto);
  }

  @Post(':migrationId/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelMigration', summary: 'Cancel: unfinished steps are skipped, finished ones stay done' })
  @ApiOkResponse({ type: MigrationDto })
  @ApiConflict('MIGRATION_FINISHED')
  cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('migrationId', ParseUUIDPipe) migrationId: string,
  ): Promise<MigrationDto> {
    return this.migrations.cancel(principal, accountId, migrationId);
  }
}
