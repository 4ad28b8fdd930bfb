import { Injectable, Optional } from '@nestjs/common';
import { MailflowHealthRepository, PrismaService, type DomainMailflowStatus, type MailflowAlert } from '@mailwarden/db';
import { MailflowTamperQueue } from '@mailwarden/mode-migrations';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { DomainMailflowHealthDto, MailflowAlertDto, MailflowDifferenceDto, MailflowHealthDto, UpdateMailflowEndpointDto } from './dto/mailflow-health.dto';

export function toDomainMailflowHealthDto(row: DomainMailflowStatus): DomainMailflowHealthDto {
  return { status: row.status, since: row.since.toISOString(), lastCheckedAt: row.lastCheckedAt.toISOString(), differences: row.differences as unknown as MailflowDifferenceDto[] };
}

function toAlertDto(alert: MailflowAlert): MailflowAlertDto {
  return { id: alert.id, kind: alert.kind, domains: alert.domains, differences: alert.differences as unknown as MailflowDifferenceDto[], createdAt: alert.createdAt.toISOString() };
}

/** The admin API's view of Microsoft 365 mailflow health: tamper alerts, per-domain health, the quick test's endpoint. */
@Injectable()
export class MailflowHealthApiService {
  constructor(
    private readonly repository: MailflowHealthRepository,
    private readonly prisma: PrismaService,
    private readonly access: TenantAccess,
    @Optional() private readonly tamperQueue?: MailflowTamperQueue,
  ) {}

  async health(principal: Principal, accountId: string): Promise<MailflowHealthDto> {
    await this.access.account(principal, accountId);
    const [settings, statuses, domains] = await Promise.all([
      this.repository.findSettings(accountId),
      this.repository.listDomainStatus(accountId),
      this.prisma.domain.findMany({ where: { accountId, OR: [{ mode: 'MAILFLOW' }, { transitionMode: 'MAILFLOW' }] }, select: { id: true, name: true }, orderBy: { name: 'asc' } }),
    ]);
    const byDomain = new Map(statuses.map((row) => [row.domainId, row]));
    return {
      exchangeSmtpHost: settings?.exchangeSmtpHost ?? null,
      exchangeSmtpPort: settings?.exchangeSmtpPort ?? 25,
      domains: Object.fromEntries(domains.map((domain) => [domain.name, byDomain.has(domain.id) ? toDomainMailflowHealthDto(byDomain.get(domain.id)!) : null])),
    };
  }

  async alerts(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<MailflowAlertDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const rows = await this.repository.listAlerts(accountId, { before: cursor ? { createdAt: decodeDate(cursor.createdAt), id: decodeUuid(cursor.id) } : undefined, limit: limit + 1 });
    return toPage(rows, limit, (alert) => ({ createdAt: alert.createdAt.toISOString(), id: alert.id }), toAlertDto);
  }

  async setEndpoint(principal: Principal, accountId: string, dto: UpdateMailflowEndpointDto): Promise<MailflowHealthDto> {
    await this.access.account(principal, accountId);
    await this.repository.setSettings(accountId, { exchangeSmtpHost: dto.exchangeSmtpHost?.toLowerCase() ?? null, exchangeSmtpPort: 25 }, actorOf(principal));
    return this.health(principal, accountId);
  }

  /** Queues a tamper check now (it only reads Exchange Online; nothing is changed there). */
  async checkNow(principal: Principal, accountId: string): Promise<void> {
    await this.access.account(principal, accountId);
    if (!this.tamperQueue) {
      throw new ApiProblem(503, ProblemCode.Microsoft365NotConfigured, 'mailflow automation is not configured in this deployment (no tamper checks run)');
    }
    await this.tamperQueue.checkNow(accountId);
  }
}
