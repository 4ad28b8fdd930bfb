import { Inject, Injectable, Optional } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import type {
  Message,
  MessageScan,
  PrismaClient,
  MessageDirection,
  MessageSource,
  PolicyAction,
  QuarantineItem,
  RecipientDelivery,
  RecipientEvent,
  Verdict,
} from '../../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../../db.constants';
import { PrismaService } from '../../prisma.service';
import { ReadReplicaRouter } from '../../read-replica';
import { escapeLikePattern } from '../../sql';
import { subjectIndexFragment } from './subject-search';
import type { Db, RawMessageStore } from './raw-message-store';
import { AuditRepository } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';

export interface MessageSearchFilters {
  from?: Date;
  to?: Date;
  /** Envelope sender or header From (exact, case-insensitive). */
  sender?: string;
  /** One of the envelope recipients (exact, case-insensitive). */
  recipient?: string;
  /** Substring of the subject, case-insensitive. */
  subject?: string;
  messageId?: string;
  direction?: MessageDirection;
  source?: MessageSource;
  /** A verdict whose first failing check is this one (e.g. `dmarc`). */
  failedCheck?: string;
  /** A verdict whose decided action is this one. */
  action?: PolicyAction;
  /** Domain of the envelope sender or of the header From (exact, case-insensitive; not its subdomains). */
  senderDomain?: string;
  /** A verdict for which this data-control rule (its id) matched. */
  dataControlRule?: string;
}

/** Keyset position on (receivedAt desc, id desc), the order of the message_account_id_received_at_id_idx index. */
export interface ReceivedAtKey {
  receivedAt: Date;
  id: string;
}

/** While the message is PENDING: the scan attempts started so far and the last error (message_scan); null once it ended. */
export type PendingScanState = Pick<MessageScan, 'attempts' | 'lastError'> | null;

export type MessageSummary = Message & { verdicts: Verdict[]; scan: PendingScanState };
export type MessageDetail = Message & { verdicts: Verdict[]; quarantine: QuarantineItem[]; scan: PendingScanState };

/**
 * The start of the tenant's history window (now minus its retention `historyDays`, issue 20): a message received
 * before it is past its history, purged or not yet, and is not shown (not listed, 404). Unset: no window applied.
 */
export interface HistoryWindow {
  historyStart?: Date;
}

/** The scan state joined in the message's own query (relationJoins: one statement, no query per message). */
const SCAN_STATE = { select: { attempts: true, lastError: true } } as const;

/**
 * The WHERE conditions of a history search (every one ANDed; the account's first, always).
 *
 * Subject (a case-insensitive substring, issue 20): the trigram index reads the whole posting list of every trigram
 * of the searched text, and the common ones ("ord", "er ", "inv" of "Invoice … for order 1234567") are in most rows:
 * at 10M stored messages that is thousands of index pages for a search that finds one message. Only the text's most
 * distinctive word ({@link subjectIndexFragment}) is handed to the index; every message holding the whole text holds
 * that word, and the whole text is then checked on the candidates with `strpos` of the lower-cased subject, which
 * the index cannot take, so it stays a filter (`lower` is also how ILIKE compares in a UTF-8 database). Same rows as
 * `subject ILIKE '%text%'`; `%` and `_` are literal in both.
 */
function searchConditions(accountId: string, filters: MessageSearchFilters & HistoryWindow, after?: ReceivedAtKey): Prisma.Sql[] {
  const and: Prisma.Sql[] = [Prisma.sql`"account_id" = ${accountId}::uuid`];
  if (filters.historyStart) {
    and.push(Prisma.sql`"received_at" >= ${filters.historyStart}`);
  }
  if (filters.from) {
    and.push(Prisma.sql`"received_at" >= ${filters.from}`);
  }
  if (filters.to) {
    and.push(Prisma.sql`"received_at" < ${filters.to}`);
  }
  if (filters.sender) {
    const sender = filters.sender.trim().toLowerCase();
    and.push(Prisma.sql`("envelope_from" = ${sender} OR "header_from" = ${sender})`);
  }
  if (filters.recipient) {
    and.push(Prisma.sql`"envelope_to" @> ARRAY[${filters.recipient.trim().toLowerCase()}]::text[]`);
  }
  if (filters.subject) {
    const fragment = subjectIndexFragment(filters.subject);
    and.push(Prisma.sql`"subject" ILIKE ${`%${escapeLikePattern(fragment)}%`}`);
    if (fragment !== filters.subject) {
      and.push(Prisma.sql`strpos(lower("subject"), lower(${filters.subject})) > 0`);
    }
  }
  if (filters.messageId) {
    and.push(Prisma.sql`"message_id_header" = ${filters.messageId.trim()}`);
  }
  if (filters.direction) {
    and.push(Prisma.sql`"direction" = ${filters.direction}::"MessageDirection"`);
  }
  if (filters.source) {
    and.push(Prisma.sql`"source" = ${filters.source}::"MessageSource"`);
  }
  const verdict: Prisma.Sql[] = [];
  if (filters.failedCheck) {
    verdict.push(Prisma.sql`"v"."failed_check" = ${filters.failedCheck}`);
  }
  if (filters.action) {
    verdict.push(Prisma.sql`"v"."decided_action" = ${filters.action}::"PolicyAction"`);
  }
  if (filters.dataControlRule) {
    // The first condition is the partial index's predicate (migration 20261205120000), repeated so that the planner may use it.
    verdict.push(Prisma.sql`"v"."reasons" @> '[{"kind":"data-control"}]'::jsonb`);
    verdict.push(Prisma.sql`"v"."reasons" @> ${JSON.stringify([{ kind: 'data-control', source: filters.dataControlRule }])}::jsonb`);
  }
  if (verdict.length > 0) {
    and.push(Prisma.sql`EXISTS (SELECT 1 FROM "verdict" AS "v" WHERE "v"."message_id" = "message"."id" AND ${Prisma.join(verdict, ' AND ')})`);
  }
  // Issue 13: sender domain (indexes: migration 20261205120000).
  if (filters.senderDomain) {
    const domain = filters.senderDomain.trim().toLowerCase().replace(/\.$/, '');
    and.push(Prisma.sql`("envelope_from_domain" = ${domain} OR "header_from_domain" = ${domain})`);
  }
  if (after) {
    and.push(Prisma.sql`("received_at" < ${after.receivedAt} OR ("received_at" = ${after.receivedAt} AND "id" < ${after.id}::uuid))`);
  }
  return and;
}

const withinHistory = (window: HistoryWindow): Prisma.MessageWhereInput => (window.historyStart ? { receivedAt: { gte: window.historyStart } } : {});

/** A message with what happened to each recipient: verdicts, copies (delivery state) and the event history. */
export type MessageRecipientsHistory = Pick<Message, 'id' | 'source' | 'envelopeTo' | 'receivedAt' | 'deliveryState'> & {
  verdicts: Array<Pick<Verdict, 'recipient' | 'decidedAction' | 'appliedAction' | 'enforced'>>;
  deliveries: RecipientDelivery[];
  events: RecipientEvent[];
};

/**
 * Message history for the admin API: search, detail, raw download (audited). Search reads from the read replica
 * (DATABASE_READ_URL, when set): a message committed a moment ago may appear there a moment later. Detail and raw
 * download read the primary (the raw download writes its audit entry in the same transaction).
 */
@Injectable()
export class MessageHistoryRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
    /** Search reads the replica (DATABASE_READ_URL) while it lags little, the primary otherwise. */
    @Optional() private readonly reads?: ReadReplicaRouter,
  ) {}

  /**
   * The first message of the account received through one of `sources` at or after `since` whose envelope sender or
   * some recipient is in one of `domains` (lower-case): a mode migration's checks look at the domains being moved only
   * (`db`: its transaction; on the primary, as a check must see what was just stored).
   */
  async firstMessageSince(
    accountId: string,
    since: Date,
    sources: readonly MessageSource[],
    domains: readonly string[],
    db: Db = this.prisma,
  ): Promise<{ id: string; receivedAt: Date; source: MessageSource } | null> {
    if (sources.length === 0 || domains.length === 0) {
      return null;
    }
    const rows = await db.$queryRaw<Array<{ id: string; receivedAt: Date; source: MessageSource }>>`
      SELECT "id", "received_at" AS "receivedAt", "source"::text AS "source" FROM "message"
      WHERE "account_id" = ${accountId}::uuid AND "received_at" >= ${since} AND "source"::text = ANY(${[...sources]}::text[])
        AND (lower(split_part("envelope_from", '@', 2)) = ANY(${[...domains]}::text[])
          OR EXISTS (SELECT 1 FROM unnest("envelope_to") AS "rcpt" WHERE lower(split_part("rcpt", '@', 2)) = ANY(${[...domains]}::text[])))
      ORDER BY "received_at" ASC LIMIT 1`;
    return rows[0] ?? null;
  }

  /**
   * One page of the account's messages, newest first. Two statements on one reader: the page's keys, filtered in SQL
   * (see {@link searchConditions}: the subject's condition cannot be written in Prisma's filter), then those rows
   * with their verdicts and scan state (relationJoins: one statement, whatever the page size).
   */
  async search(accountId: string, filters: MessageSearchFilters & HistoryWindow, page: { after?: ReceivedAtKey; limit: number }): Promise<MessageSummary[]> {
    const reader: PrismaClient = (await this.reads?.reader()) ?? this.prisma;
    const keys = await reader.$queryRaw<ReceivedAtKey[]>`
      SELECT "id", "received_at" AS "receivedAt" FROM "message"
      WHERE ${Prisma.join(searchConditions(accountId, filters, page.after), ' AND ')}
      ORDER BY "received_at" DESC, "id" DESC LIMIT ${page.limit}`;
    if (keys.length === 0) {
      return [];
    }
    return reader.message.findMany({
      // Each row by its whole primary key (id, received_at): one probe in the one day partition that holds it.
      where: { accountId, OR: keys.map(({ id, receivedAt }) => ({ id, receivedAt })) },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      include: { verdicts: { orderBy: { recipient: 'asc' } }, scan: SCAN_STATE },
    });
  }

  findDetail(accountId: string, messageId: string, window: HistoryWindow = {}): Promise<MessageDetail | null> {
    return this.prisma.message.findFirst({
      where: { id: messageId, accountId, ...withinHistory(window) },
      include: { verdicts: { orderBy: { recipient: 'asc' } }, quarantine: { orderBy: { createdAt: 'asc' } }, scan: SCAN_STATE },
    });
  }

  /** One message of the account with each recipient's verdict, copy and event history (oldest event first). */
  async findRecipientsHistory(accountId: string, messageId: string, window: HistoryWindow = {}): Promise<MessageRecipientsHistory | null> {
    const message = await this.prisma.message.findFirst({
      where: { id: messageId, accountId, ...withinHistory(window) },
      select: {
        id: true,
        source: true,
        envelopeTo: true,
        receivedAt: true,
        deliveryState: true,
        verdicts: { select: { recipient: true, decidedAction: true, appliedAction: true, enforced: true } },
        events: { orderBy: { id: 'asc' } },
      },
    });
    if (!message) {
      return null;
    }
    const deliveries = await this.prisma.recipientDelivery.findMany({ where: { messageId }, orderBy: { recipient: 'asc' } });
    return { ...message, deliveries };
  }

  /**
   * The raw bytes of one message of the account; the download is written to the audit log first. With a history
   * window, a message past it is not found (its bytes may be kept longer, for the emergency inbox and quarantine).
   */
  async downloadRaw(
    accountId: string,
    messageId: string,
    actor: AuditActor,
    action = 'message.raw_downloaded',
    window: HistoryWindow = {},
  ): Promise<{ message: Message; raw: Buffer } | null> {
    return this.prisma.$transaction(async (tx) => {
      const message = await tx.message.findFirst({ where: { id: messageId, accountId, ...withinHistory(window) } });
      if (!message) {
        return null;
      }
      const raw = await this.rawStore.get(tx, message.rawMessageId);
      if (!raw) {
        return null;
      }
      await this.audit.append(
        { ...actor, accountId, action, objectType: 'message', objectId: messageId, after: { size: raw.byteLength } },
        tx,
      );
      return { message, raw };
    });
  }
}
