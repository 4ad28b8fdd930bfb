import { Injectable } from '@nestjs/common';
import type { AuditEvent, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { escapeLikePattern } from '../../sql';
import type { Db } from '../message/raw-message-store';
import type { AuditEntry, AuditLogFilters } from './audit.types';

/** A JSON snapshot of a row for the audit log (dates as ISO strings, no secrets). */
export function auditSnapshot(row: object | null | undefined): Prisma.InputJsonValue | null {
  if (!row) {
    return null;
  }
  return JSON.parse(JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as Prisma.InputJsonValue;
}

/**
 * The append-only audit log. The table refuses UPDATE and DELETE, so this class only adds and reads. Readers see
 * an account's (or partner's) entries newest first by its own sequence number, never the global id, whose gaps
 * would count other tenants' changes.
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Appends one entry; pass the caller's transaction so the entry commits with the change it records. */
  append(entry: AuditEntry, db: Db = this.prisma): Promise<AuditEvent> {
    return db.auditEvent.create({
      data: {
        actor: entry.actor,
        actorKeyId: entry.actorKeyId ?? null,
        accountId: entry.accountId ?? null,
        partnerId: entry.partnerId ?? null,
        action: entry.action,
        objectType: entry.objectType,
        objectId: entry.objectId,
        before: entry.before ?? undefined,
        after: entry.after ?? undefined,
      },
    });
  }

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
      actor: filters.actor ? { contains: escapeLikePattern(filters.actor), mode: 'insensitive' } : undefined,
    };
    return this.prisma.auditEvent.findMany({ where, orderBy, take: limit });
  }
}
