import { Injectable, Optional } from '@nestjs/common';
import { AuditRepository, type DestinationOwner, type ExportDestination, type Prisma } from '@mailwarden/db';
import { DestinationSettingsError, ExportDestinationsService, type ExportDestinationView } from '@mailwarden/export';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { ExportDestinationDto, ExportTestResultDto } from './dto/export-destination.dto';
import type { CreateExportDestinationDto, UpdateExportDestinationDto } from './dto/write-export-destination.dto';

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toDto(view: ExportDestinationView): ExportDestinationDto {
  return {
    id: view.id,
    name: view.name,
    kind: view.kind,
    scope: view.partnerId ? 'partner' : 'account',
    accountId: view.accountId,
    settings: view.settings as unknown as Record<string, unknown>,
    hasCredentials: view.hasCredentials,
    classUids: view.classUids,
    minSeverityId: view.minSeverityId,
    actionableOnly: view.actionableOnly,
    enabled: view.enabled,
    status: {
      ...view.status,
      oldestPendingAt: iso(view.status.oldestPendingAt),
      lastSuccessAt: iso(view.status.lastSuccessAt),
      lastErrorAt: iso(view.status.lastErrorAt),
      nextAttemptAt: iso(view.status.nextAttemptAt),
    },
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

/** Audit snapshot: configuration only (no status, never credentials). */
function snapshot(dto: ExportDestinationDto): Prisma.InputJsonValue {
  const { status: _status, ...rest } = dto;
  return { ...rest, credentials: dto.hasCredentials ? '[write-only]' : null } as unknown as Prisma.InputJsonValue;
}

/**
 * SIEM export destinations of one account (`accountId`) or of the caller's partner (`partner`), through
 * ExportDestinationsService (libs/export). Without SECRETS_KEY the service does not exist (credentials could not be
 * encrypted) and every route answers 503 SECRETS_KEY_NOT_CONFIGURED, after the tenant check.
 */
@Injectable()
export class ExportDestinationsAdminService {
  constructor(
    private readonly access: TenantAccess,
    private readonly audit: AuditRepository,
    @Optional() private readonly destinations?: ExportDestinationsService,
  ) {}

  async list(principal: Principal, scope: 'partner' | string): Promise<{ items: ExportDestinationDto[] }> {
    const { service, owner } = await this.ready(principal, scope);
    return { items: (await service.list(owner)).map(toDto) };
  }

  async get(principal: Principal, scope: 'partner' | string, id: string): Promise<ExportDestinationDto> {
    const { service, existing } = await this.existing(principal, scope, id);
    return toDto(await service.view(existing));
  }

  async create(principal: Principal, scope: 'partner' | string, dto: CreateExportDestinationDto): Promise<ExportDestinationDto> {
    const { service, owner } = await this.ready(principal, scope);
    const created = toDto(await this.refusingBadSettings(() => service.create(owner, dto)));
    await this.audit.append({ ...actorOf(principal), ...this.auditOwner(owner), action: 'export_destination.created', objectType: 'export_destination', objectId: created.id, after: snapshot(created) });
    return created;
  }

  async update(principal: Principal, scope: 'partner' | string, id: string, dto: UpdateExportDestinationDto): Promise<ExportDestinationDto> {
    const { service, owner, existing } = await this.existing(principal, scope, id);
    const before = toDto(await service.view(existing));
    const after = toDto(await this.refusingBadSettings(() => service.update(existing, dto)));
    await this.audit.append({ ...actorOf(principal), ...this.auditOwner(owner), action: 'export_destination.updated', objectType: 'export_destination', objectId: id, before: snapshot(before), after: snapshot(after) });
    return after;
  }

  async remove(principal: Principal, scope: 'partner' | string, id: string): Promise<ExportDestinationDto> {
    const { service, owner, existing } = await this.existing(principal, scope, id);
    const removed = toDto(await service.remove(existing));
    await this.audit.append({ ...actorOf(principal), ...this.auditOwner(owner), action: 'export_destination.removed', objectType: 'export_destination', objectId: id, before: snapshot(removed) });
    return removed;
  }

  async test(principal: Principal, scope: 'partner' | string, id: string): Promise<ExportTestResultDto> {
    const { service, existing } = await this.existing(principal, scope, id);
    return service.sendTest(existing);
  }

  private auditOwner(owner: DestinationOwner): { accountId?: string; partnerId?: string } {
    return owner.accountId ? { accountId: owner.accountId } : { partnerId: owner.partnerId! };
  }

  private async refusingBadSettings<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof DestinationSettingsError) {
        throw new ApiProblem(400, ProblemCode.ExportInvalidSettings, error.message, [{ field: error.field, code: ProblemCode.ExportInvalidSettings, message: error.message }]);
      }
      throw error;
    }
  }

  private async existing(principal: Principal, scope: 'partner' | string, id: string): Promise<{ service: ExportDestinationsService; owner: DestinationOwner; existing: ExportDestination }> {
    const ready = await this.ready(principal, scope);
    const existing = await ready.service.find(ready.owner, id);
    if (!existing) {
      throw ApiProblem.notFound('export destination', id);
    }
    return { ...ready, existing };
  }

  /** Tenant check first (another tenant's account is 404 whether or not the key is set), then SECRETS_KEY. */
  private async ready(principal: Principal, scope: 'partner' | string): Promise<{ service: ExportDestinationsService; owner: DestinationOwner }> {
    let owner: DestinationOwner;
    if (scope === 'partner') {
      owner = { partnerId: principal.partnerId! };
    } else {
      await this.access.account(principal, scope);
      owner = { accountId: scope };
    }
    if (!this.destinations) {
      throw new ApiProblem(503, ProblemCode.SecretsKeyNotConfigured, 'SECRETS_KEY not configured: the admin API cannot store export credentials');
    }
    return { service: this.destinations, owner };
  }
}
