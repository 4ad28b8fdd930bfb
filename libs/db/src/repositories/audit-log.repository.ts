import { Injectable } from '@nestjs/common';
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

export interface AuditLogFilters {
  from?: Date;
  to?: Date;
  action?: string;
  objectType?: string;
  objectId?: string;
  actorKeyId?: string;
}

/** Reads the append-only audit log of one account or partner, newest first (by id, which grows with time). */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(accountId: string, filters: AuditLogFilters, page: { afterId?: bigint; limit: number }): Promise<AuditEvent[]> {
    return this.find({ accountId }, filters, page);
  }

  /** Events recorded with the partner's id: its partner policies, its accounts' creation and keys. */
  listForPartner(partnerId: string, filters: AuditLogFilters, page: { afterId?: bigint; limit: number }): Promise<AuditEvent[]> {
    return this.find({ partnerId }, filters, page);
  }

  private find(scope: Prisma.AuditEventWhereInput, filters: AuditLogFilters, page: { afterId?: bigint; limit: number }): Promise<AuditEvent[]> {
    const where: Prisma.AuditEventWhereInput = {
      ...scope,
      at: { gte: filters.from, lt: filters.to },
      action: filters.action,
      objectType: filters.objectType,
      objectId: filters.objectId,
      actorKeyId: filters.actorKeyId,
      ...(page.afterId !== undefined ? { id: { lt: page.afterId } } : {}),
    };
    return this.prisma.auditEvent.findMany({ where, orderBy: { id: 'desc' }, take: page.limit });
  }
}
