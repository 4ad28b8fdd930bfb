import { Injectable } from '@nestjs/common';
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import type { Db } from './message/raw-message-store';

export interface AuditEntry {
  actor: string;
  actorKeyId?: string | null;
  accountId?: string | null;
  partnerId?: string | null;
  action: string;
  objectType: string;
  objectId: string;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
}

/** The append-only audit log. The table refuses UPDATE and DELETE, so this class only adds and reads. */
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

  listForAccount(accountId: string, limit = 100): Promise<AuditEvent[]> {
    return this.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'desc' }, take: limit });
  }
}
