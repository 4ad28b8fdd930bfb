import { Injectable, Optional } from '@nestjs/common';
import { AuditRepository, type Prisma, type ThirdPartyAlert } from '@mailwarden/db';
import { decodeAlertCursor, MimecastService, type MimecastConnectionSettings, type MimecastConnectionView } from '@mailwarden/mimecast';
import type { Page } from '../common/cursor';
import { pageLimit } from '../common/cursor';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { AlertDto } from './dto/alert.dto';
import type { AlertQueryDto } from './dto/alert-query.dto';
import type { ConfigureMimecastDto } from './dto/configure-mimecast.dto';
import type { MimecastConnectionDto } from './dto/mimecast-connection.dto';
import type { MimecastTestResultDto } from './dto/mimecast-test-result.dto';

function toConnectionDto(view: MimecastConnectionView): MimecastConnectionDto {
  return {
    id: view.id,
    apiVersion: view.apiVersion,
    baseUrl: view.baseUrl,
    enabled: view.enabled,
    pollIntervalSeconds: view.pollIntervalSeconds,
    lastPolledAt: view.lastPolledAt?.toISOString() ?? null,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

function toAlertDto(alert: ThirdPartyAlert): AlertDto {
  return {
    id: alert.id,
    source: alert.source,
    logType: alert.logType,
    alertType: alert.alertType,
    mitreId: alert.mitreId,
    mitreName: alert.mitreName,
    occurredAt: alert.occurredAt.toISOString(),
    sender: alert.sender,
    recipient: alert.recipient,
    subject: alert.subject,
    url: alert.url,
    fileName: alert.fileName,
    messageIdHeader: alert.messageIdHeader,
  };
}

/** Audit snapshot of a connection: the credentials never enter the log. */
const snapshot = (dto: MimecastConnectionDto | null): Prisma.InputJsonValue | null => (dto ? { ...dto, credentials: '[write-only]' } : null);

/**
 * The Mimecast integration through MimecastService (libs/mimecast). Without SECRETS_KEY the service is not
 * created (credentials could not be encrypted) and every route answers 503 SECRETS_KEY_NOT_CONFIGURED.
 */
@Injectable()
export class MimecastIntegrationService {
  constructor(
    private readonly access: TenantAccess,
    private readonly audit: AuditRepository,
    @Optional() private readonly mimecast?: MimecastService,
  ) {}

  async configure(principal: Principal, accountId: string, dto: ConfigureMimecastDto): Promise<MimecastConnectionDto> {
    const mimecast = await this.ready(principal, accountId);
    const before = await mimecast.getConnection(accountId);
    let view: MimecastConnectionView;
    try {
      view = await mimecast.configureConnection(accountId, { ...(dto as unknown as MimecastConnectionSettings), enabled: dto.enabled, pollIntervalSeconds: dto.pollIntervalSeconds });
    } catch (error) {
      if (error instanceof RangeError) {
        throw new ApiProblem(400, ProblemCode.MimecastInvalidSettings, error.message, [{ field: error.message.split(' ')[0] ?? '', code: ProblemCode.MimecastInvalidSettings, message: error.message }]);
      }
      throw error;
    }
    const after = toConnectionDto(view);
    // MimecastService commits the connection itself, so this entry follows it in a second statement.
    await this.audit.append({
      ...actorOf(principal),
      accountId,
      action: before ? 'mimecast.connection_updated' : 'mimecast.connection_configured',
      objectType: 'mimecast_connection',
      objectId: view.id,
      before: snapshot(before ? toConnectionDto(before) : null),
      after: snapshot(after),
    });
    return after;
  }

  async get(principal: Principal, accountId: string): Promise<MimecastConnectionDto> {
    const mimecast = await this.ready(principal, accountId);
    const view = await mimecast.getConnection(accountId);
    if (!view) {
      throw new ApiProblem(404, ProblemCode.NotFound, 'no Mimecast connection is configured for this account');
    }
    return toConnectionDto(view);
  }

  async remove(principal: Principal, accountId: string): Promise<MimecastConnectionDto> {
    const existing = await this.get(principal, accountId);
    await this.mimecast!.removeConnection(accountId);
    await this.audit.append({
      ...actorOf(principal),
      accountId,
      action: 'mimecast.connection_removed',
      objectType: 'mimecast_connection',
      objectId: existing.id,
      before: snapshot(existing),
    });
    return existing;
  }

  async test(principal: Principal, accountId: string): Promise<MimecastTestResultDto> {
    const mimecast = await this.ready(principal, accountId);
    const result = await mimecast.testConnection(accountId);
    return result.ok ? { ok: true, code: null, message: null } : { ok: false, code: result.code, message: result.message };
  }

  async alerts(principal: Principal, accountId: string, query: AlertQueryDto): Promise<Page<AlertDto>> {
    const mimecast = await this.ready(principal, accountId);
    if (query.cursor) {
      try {
        decodeAlertCursor(query.cursor);
      } catch {
        throw new ApiProblem(400, ProblemCode.InvalidCursor, 'cursor is not a cursor this list returned');
      }
    }
    const page = await mimecast.listAlerts(
      accountId,
      {
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        type: query.type,
        mitreId: query.mitreId,
        sender: query.sender,
        recipient: query.recipient,
      },
      { cursor: query.cursor, limit: pageLimit(query.limit) },
    );
    return { items: page.items.map(toAlertDto), nextCursor: page.nextCursor };
  }

  /** Tenant check first (another tenant's account is 404 whether or not Mimecast is set up), then the key. */
  private async ready(principal: Principal, accountId: string): Promise<MimecastService> {
    await this.access.account(principal, accountId);
    if (!this.mimecast) {
      throw new ApiProblem(503, ProblemCode.SecretsKeyNotConfigured, 'SECRETS_KEY not configured: the admin API cannot store integration credentials');
    }
    return this.mimecast;
  }
}
