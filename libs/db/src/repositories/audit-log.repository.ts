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
  /** Text the actor contains, any case (a person's email, a key's prefix or name). */
  actor?: string;
}

/**
 * Reads the append-only audit log of one account or partner, newest first: by the account's (or partner's) own
 * sequence number, so that no reader sees the global id, whose gaps would count other tenants' changes.
 */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(accountId: string, filters: AuditLogFilters, page: { afterSeq?: bigint; limit: number }): Promise<AuditEvent[]> {
    return this.find({ accountId, ...(page.afterSeq !== undefined ? { accountSeq: { lt: page.afterSeq } } : {}) }, { accountSeq: 'desc' }, filters, page.limit);
  }

  /** Events recorded with the partner's id: its partner policies, its accounts' creation and keys. */
  listForPartner(partnerId: string, filters: AuditLogFilters, page: { afterSeq?: bigint; limit: number }): Promise<AuditEvent[]> {
    return this.find({ partnerId, ...(page.afterSeq !== undefined ? { partnerSeq: { lt: page.afterSeq } } : {}) }, { partnerSeq: 'desc' }, filters, page.limit);
  }

  private find(scope: Prisma.AuditEventWhereInput, orderBy: Prisma.AuditEventOrderByWithRelationInput, filters: AuditLogFilters, limit: number): Promise<AuditEvent[]> {
    const where: Prisma.AuditEventWhereInput = {
      ...scope,
      at: { gte: filters.from, lt: filters.to },
      action: filters.action,
      objectType: filters.objectType,
      objectId: filters.objectId,
      actorKeyId: filters.actorKeyId,
      actor: filters.actor ? { contains: filters.actor, mode: 'insensitive' } : undefined,
    };
    return this.prisma.auditEvent.findMany({ where, orderBy, take: limit });
  }
}
