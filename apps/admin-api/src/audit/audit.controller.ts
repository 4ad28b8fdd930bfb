import { Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuditRepository, type AuditEvent, type AuditLogFilters } from '@mailwarden/db';
import { AdminController } from '../common/admin-controller.decorator';
import { PartnerOnly } from '../common/api-key.guard';
import { decodeCursor, pageLimit, toPage } from '../common/cursor';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { AuditEventDto } from './dto/audit-event.dto';
import { AuditPageDto } from './dto/audit-page.dto';
import { AuditQueryDto } from './dto/audit-query.dto';

type Sequence = (event: AuditEvent) => bigint | null;
const ACCOUNT_SEQUENCE: Sequence = (event) => event.accountSeq;
const PARTNER_SEQUENCE: Sequence = (event) => event.partnerSeq;

function toAuditEventDto(event: AuditEvent, sequence: Sequence): AuditEventDto {
  return {
    sequence: String(sequence(event)),
    at: event.at.toISOString(),
    actor: event.actor,
    actorKeyId: event.actorKeyId,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId,
    before: (event.before as object | null) ?? null,
    after: (event.after as object | null) ?? null,
  };
}

/** The append-only audit log: read only, there are no write routes. */
@AdminController('audit', 'v1')
export class AuditController {
  constructor(
    private readonly auditLog: AuditRepository,
    private readonly access: TenantAccess,
  ) {}

  @Get('accounts/:accountId/audit-events')
  @ApiOperation({ operationId: 'listAuditEvents', summary: 'Every change to the account (who, when, object, before, after), newest first' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: AuditQueryDto): Promise<AuditPageDto> {
    await this.access.account(principal, accountId);
    return this.page(query, ACCOUNT_SEQUENCE, (filters, page) => this.auditLog.list(accountId, filters, page));
  }

  @Get('partner/audit-events')
  @PartnerOnly()
  @ApiOperation({ operationId: 'listPartnerAuditEvents', summary: "Events recorded for the caller's partner (partner policies, account creation, keys), newest first" })
  @ApiOkResponse({ type: AuditPageDto })
  listForPartner(@CurrentPrincipal() principal: Principal, @Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.page(query, PARTNER_SEQUENCE, (filters, page) => this.auditLog.listForPartner(principal.partnerId!, filters, page));
  }

  private async page(
    query: AuditQueryDto,
    sequence: Sequence,
    read: (filters: AuditLogFilters, page: { afterSeq?: bigint; limit: number }) => Promise<AuditEvent[]>,
  ): Promise<AuditPageDto> {
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['seq'] as const);
    if (cursor && !/^\d{1,18}$/.test(cursor.seq)) {
      throw new ApiProblem(400, ProblemCode.InvalidCursor, 'cursor is not a cursor this list returned');
    }
    const rows = await read(
      {
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        action: query.action,
        objectType: query.objectType,
        objectId: query.objectId,
        actorKeyId: query.actorKeyId,
      },
      { afterSeq: cursor ? BigInt(cursor.seq) : undefined, limit: limit + 1 },
    );
    return toPage(rows, limit, (row) => ({ seq: String(sequence(row)) }), (row) => toAuditEventDto(row, sequence));
  }
}
