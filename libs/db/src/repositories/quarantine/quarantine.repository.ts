import { Injectable } from '@nestjs/common';
import type { Message, Prisma, QuarantineItem, QuarantineStatus, Verdict } from '../../generated/prisma/client';
import { newestFirstAfter } from '../../pagination';
import { PrismaService } from '../../prisma.service';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';
import type { CreatedAtKey } from '../../types/page.types';

export interface QuarantineFilters {
  status?: QuarantineStatus;
  enforced?: boolean;
  recipient?: string;
  /** Filters that contradict each other: nothing matches. */
  none?: boolean;
}

export type QuarantineItemWithMessage = QuarantineItem & {
  message: Pick<Message, 'id' | 'envelopeFrom' | 'headerFrom' | 'subject' | 'messageIdHeader' | 'receivedAt' | 'source' | 'direction'>;
  /** Every reason of the recipient's decision (the item's `reason` is only the first). */
  verdict: Pick<Verdict, 'reasons' | 'failedCheck'>;
};

const ITEM_INCLUDE = {
  message: { select: { id: true, envelopeFrom: true, headerFrom: true, subject: true, messageIdHeader: true, receivedAt: true, source: true, direction: true } },
  verdict: { select: { reasons: true, failedCheck: true } },
} as const;

/** The outcome of a HELD → RELEASED / DELETED transition: `after` is null when the item was not HELD and enforced. */
export interface QuarantineTransition {
  before: QuarantineItem;
  after: QuarantineItem | null;
}

@Injectable()
export class QuarantineRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  list(accountId: string, filters: QuarantineFilters, page: { after?: CreatedAtKey; limit: number }): Promise<QuarantineItemWithMessage[]> {
    if (filters.none) {
      return Promise.resolve([]);
    }
    const where: Prisma.QuarantineItemWhereInput = {
      accountId,
      status: filters.status,
      enforced: filters.enforced,
      recipient: filters.recipient?.trim().toLowerCase(),
      ...newestFirstAfter(page.after),
    };
    return this.prisma.quarantineItem.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
      include: ITEM_INCLUDE,
    });
  }

  find(accountId: string, itemId: string): Promise<QuarantineItemWithMessage | null> {
    return this.prisma.quarantineItem.findFirst({ where: { id: itemId, accountId }, include: ITEM_INCLUDE });
  }

  /**
   * Moves a HELD, enforced item to `to` (RELEASED or DELETED) with its audit entry, in one transaction. Only one of
   * two concurrent transitions wins (conditional update); the loser gets `after: null` and the row as it was.
   */
  transition(accountId: string, itemId: string, to: 'RELEASED' | 'DELETED', actor: AuditActor): Promise<QuarantineTransition | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.quarantineItem.findFirst({ where: { id: itemId, accountId } });
      if (!before) {
        return null;
      }
      const { count } = await tx.quarantineItem.updateMany({
        where: { id: itemId, status: 'HELD', enforced: true },
        data: { status: to, releasedAt: to === 'RELEASED' ? new Date() : undefined },
      });
      if (count === 0) {
        return { before, after: null };
      }
      const after = await tx.quarantineItem.findUniqueOrThrow({ where: { id: itemId } });
      // The recipient's event history (issue 13 §4), in the transaction of the change.
      await tx.recipientEvent.create({ data: { messageId: before.messageId, recipient: before.recipient, type: to, detail: { quarantineItemId: itemId, actor: actor.actor } } });
      await this.audit.append(
        {
          ...actor,
          accountId,
          action: to === 'RELEASED' ? 'quarantine.released' : 'quarantine.deleted',
          objectType: 'quarantine_item',
          objectId: itemId,
          before: auditSnapshot(before),
          after: auditSnapshot(after),
        },
        tx,
      );
      return { before, after };
    });
  }
}
