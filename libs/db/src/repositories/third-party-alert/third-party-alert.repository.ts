import { Injectable } from '@nestjs/common';
import type {
  MalformedAlert,
  MimecastApiVersion,
  MimecastConnection,
  MimecastLogType,
  MimecastPollCursor,
  MimecastPollOutcome,
  MimecastPollRun,
  Prisma,
  ThirdPartyAlert,
  ThirdPartySource,
} from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';

export interface MimecastConnectionInput {
  accountId: string;
  apiVersion: MimecastApiVersion;
  baseUrl: string;
  encryptedCredentials: string;
  enabled: boolean;
  pollIntervalSeconds: number;
}

export interface ThirdPartyAlertInput {
  source: ThirdPartySource;
  logType: string;
  alertType: string;
  mitreId: string | null;
  mitreName: string | null;
  occurredAt: Date;
  sender: string;
  recipient: string;
  subject: string | null;
  url: string | null;
  fileName: string | null;
  messageIdHeader: string | null;
  raw: Prisma.InputJsonValue;
  dedupHash: string;
}

export interface MalformedAlertInput {
  source: ThirdPartySource;
  logType: string;
  reason: string;
  raw: Prisma.InputJsonValue;
}

/** Where the cursor of one log type stands once a page is committed. */
export interface CursorPosition {
  windowStart: Date;
  windowEnd: Date | null;
  pageToken: string | null;
}

export interface CommitPageInput {
  connectionId: string;
  accountId: string;
  logType: MimecastLogType;
  alerts: ThirdPartyAlertInput[];
  malformed: MalformedAlertInput[];
  cursor: CursorPosition;
}

export interface PollRunCounts {
  pages: number;
  received: number;
  stored: number;
  duplicates: number;
  malformed: number;
  clean: number;
  unmapped: number;
}

export interface ThirdPartyAlertFilters {
  from?: Date;
  to?: Date;
  alertType?: string;
  mitreId?: string;
  sender?: string;
  recipient?: string;
}

/** Keyset position: the last row of the previous page (newest first). */
export interface ThirdPartyAlertKey {
  occurredAt: Date;
  id: string;
}

/** Outbox topic of a newly stored third-party alert (payload: ids only). */
export const THIRD_PARTY_ALERT_TOPIC = 'third-party-alert';

/**
 * Mimecast connections, their poll cursors and runs, and the third-party alerts they store
 * (DESIGN.md §6). A page of alerts and the cursor advance commit together, so a restart resumes exactly
 * where the last commit left off.
 */
@Injectable()
export class ThirdPartyAlertRepository {
  constructor(private readonly prisma: PrismaService) {}

  upsertConnection(input: MimecastConnectionInput): Promise<MimecastConnection> {
    const { accountId, ...fields } = input;
    return this.prisma.mimecastConnection.upsert({
      where: { accountId },
      create: { accountId, ...fields },
      update: fields,
    });
  }

  /**
   * Replaces the connection's settings and forgets its cursors, in one transaction: a new tenant or API
   * version starts its own history, while stored alerts stay (deduplication covers any overlap).
   */
  replaceConnection(input: MimecastConnectionInput): Promise<MimecastConnection> {
    return this.prisma.$transaction(async (tx) => {
      const { accountId, ...fields } = input;
      const connection = await tx.mimecastConnection.upsert({
        where: { accountId },
        create: { accountId, ...fields },
        update: fields,
      });
      await tx.mimecastPollCursor.deleteMany({ where: { connectionId: connection.id } });
      return connection;
    });
  }

  /** Deletes the connection with its cursors, runs and malformed records; stored alerts stay with the account. */
  async deleteConnection(accountId: string): Promise<boolean> {
    const { count } = await this.prisma.mimecastConnection.deleteMany({ where: { accountId } });
    return count > 0;
  }

  findConnectionByAccount(accountId: string): Promise<MimecastConnection | null> {
    return this.prisma.mimecastConnection.findUnique({ where: { accountId } });
  }

  findConnection(id: string): Promise<MimecastConnection | null> {
    return this.prisma.mimecastConnection.findUnique({ where: { id } });
  }

  listEnabledConnections(): Promise<MimecastConnection[]> {
    return this.prisma.mimecastConnection.findMany({ where: { enabled: true }, orderBy: { createdAt: 'asc' } });
  }

  /** Takes the connection's poll lease when it is free or expired; false when another poll holds it. */
  async acquireLease(connectionId: string, now: Date, until: Date): Promise<boolean> {
    const { count } = await this.prisma.mimecastConnection.updateMany({
      where: { id: connectionId, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
      data: { leaseUntil: until },
    });
    return count === 1;
  }

  async releaseLease(connectionId: string, polledAt: Date): Promise<void> {
    await this.prisma.mimecastConnection.update({
      where: { id: connectionId },
      data: { leaseUntil: null, lastPolledAt: polledAt },
    });
  }

  /** The cursor of one log type, created at `initialStart` on the first poll. */
  ensureCursor(connectionId: string, logType: MimecastLogType, initialStart: Date): Promise<MimecastPollCursor> {
    return this.prisma.mimecastPollCursor.upsert({
      where: { connectionId_logType: { connectionId, logType } },
      create: { connectionId, logType, windowStart: initialStart },
      update: {},
    });
  }

  /** Fixes the end of the next window before its first page is fetched, so a resumed poll asks the same question. */
  openWindow(connectionId: string, logType: MimecastLogType, windowEnd: Date): Promise<MimecastPollCursor> {
    return this.prisma.mimecastPollCursor.update({
      where: { connectionId_logType: { connectionId, logType } },
      data: { windowEnd, pageToken: null },
    });
  }

  /** Keeps the poll lease of a long poll alive. */
  async extendLease(connectionId: string, until: Date): Promise<void> {
    await this.prisma.mimecastConnection.update({ where: { id: connectionId }, data: { leaseUntil: until } });
  }

  /**
   * Stores one page: its alerts (duplicates skipped), an outbox event per new alert (for the SIEM export,
   * DESIGN.md §6), its malformed records and the cursor advance, all in one transaction.
   */
  commitPage(input: CommitPageInput): Promise<{ stored: number; duplicates: number }> {
    return this.prisma.$transaction(async (tx) => {
      const created = await tx.thirdPartyAlert.createManyAndReturn({
        data: input.alerts.map((alert) => ({ ...alert, accountId: input.accountId })),
        skipDuplicates: true,
        select: { id: true },
      });
      const count = created.length;
      if (count > 0) {
        await tx.outboxEvent.createMany({
          data: created.map(({ id }) => ({
            topic: THIRD_PARTY_ALERT_TOPIC,
            aggregateId: id,
            accountId: input.accountId,
            payload: { alertId: id, accountId: input.accountId },
          })),
        });
      }
      if (input.malformed.length > 0) {
        await tx.malformedAlert.createMany({
          data: input.malformed.map((record) => ({ ...record, connectionId: input.connectionId })),
        });
      }
      await tx.mimecastPollCursor.update({
        where: { connectionId_logType: { connectionId: input.connectionId, logType: input.logType } },
        data: input.cursor,
      });
      return { stored: count, duplicates: input.alerts.length - count };
    });
  }

  /**
   * Marks the runs still RUNNING for a connection as FAILED: called by the holder of the lease, so they belong to
   * polls whose process died. Returns how many there were.
   */
  async failInterruptedRuns(connectionId: string, at: Date): Promise<number> {
    const { count } = await this.prisma.mimecastPollRun.updateMany({
      where: { connectionId, outcome: 'RUNNING' },
      data: { outcome: 'FAILED', error: 'interrupted: the polling process stopped before the run finished', finishedAt: at },
    });
    return count;
  }

  startRun(connectionId: string, startedAt: Date): Promise<MimecastPollRun> {
    return this.prisma.mimecastPollRun.create({ data: { connectionId, startedAt } });
  }

  finishRun(
    id: string,
    outcome: MimecastPollOutcome,
    counts: PollRunCounts,
    finishedAt: Date,
    error: string | null,
  ): Promise<MimecastPollRun> {
    return this.prisma.$transaction(async (tx) => {
      const run = await tx.mimecastPollRun.findUniqueOrThrow({ where: { id }, select: { startedAt: true } });
      return tx.mimecastPollRun.update({
        where: { id },
        data: {
          outcome,
          ...counts,
          error,
          finishedAt,
          durationMs: Math.max(0, finishedAt.getTime() - run.startedAt.getTime()),
        },
      });
    });
  }

  listRuns(connectionId: string, limit = 50): Promise<MimecastPollRun[]> {
    return this.prisma.mimecastPollRun.findMany({
      where: { connectionId },
      orderBy: { startedAt: 'desc' },
      take: limit,
    });
  }

  listMalformed(connectionId: string, limit = 50): Promise<MalformedAlert[]> {
    return this.prisma.malformedAlert.findMany({
      where: { connectionId },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  /** Alerts newest first; pass the last row of a page as `after` to read the next one. */
  listAlerts(
    accountId: string,
    filters: ThirdPartyAlertFilters,
    page: { after?: ThirdPartyAlertKey; limit: number },
  ): Promise<ThirdPartyAlert[]> {
    const where: Prisma.ThirdPartyAlertWhereInput = {
      accountId,
      occurredAt: { gte: filters.from, lt: filters.to },
      alertType: filters.alertType,
      mitreId: filters.mitreId,
      sender: filters.sender?.toLowerCase(),
      recipient: filters.recipient?.toLowerCase(),
    };
    if (page.after) {
      where.OR = [
        { occurredAt: { lt: page.after.occurredAt } },
        { occurredAt: page.after.occurredAt, id: { lt: page.after.id } },
      ];
    }
    return this.prisma.thirdPartyAlert.findMany({
      where,
      orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }
}
