import { Inject, Injectable } from '@nestjs/common';
import {
  Prisma,
  type Account,
  type DeliveryState,
  type Domain,
  type MailflowConnector,
  type Message,
  type RecipientDelivery,
  type Verdict,
} from '../../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../../db.constants';
import { PrismaService } from '../../prisma.service';
import type { RawMessageStore } from '../message/raw-message-store';
import type { IncomingMessage, ProcessedWrite, RecipientDeliveryInput, StoredProcessed, VerdictInput } from '../../types/message.types';
import { settle } from '../../group-commit';
import { sqlQuery } from '../../sql';
import { deliveryInsertCtes, messageInsertCtes, preparedStore, receivedAround, receivedRange, verdictInsertCtes } from '../message/message-writes.sql';

export type GatewayDomain = Domain & { account: Account & { domains: Domain[] } };

export interface RecipientDeliveryUpdate {
  state: DeliveryState;
  lastError?: string | null;
  /** Counts as one more delivery attempt (a downstream was tried). */
  attempted?: boolean;
  /** The downstream's reply to an accepted copy (failures carry theirs in lastError); kept in the event history. */
  reply?: string | null;
  /** `host:port` tried, for the event history. */
  downstream?: string;
}

/** Delivery states that are a step in the recipient's event history (QUEUED is not: it is where a copy waits). */
const DELIVERY_EVENT_STATES: ReadonlySet<DeliveryState> = new Set(['DELIVERED', 'DEFERRED', 'FAILED']);

export type MessageForDelivery = Message & { account: Account & { domains: Domain[] }; verdicts: Verdict[]; deliveries: RecipientDelivery[] };

/** A copy a delivery run has claimed ({@link DeliveryRepository.claimCopies}): its row as the claim found it. */
export type ClaimedCopy = Pick<RecipientDelivery, 'recipient' | 'action' | 'state' | 'subjectTag' | 'attempts' | 'lastError'>;

export interface EmergencyInboxEntry {
  id: string;
  receivedAt: Date;
  envelopeFrom: string;
  headerFrom: string | null;
  subject: string | null;
  size: number;
  deliveryState: DeliveryState;
}

// Which per-recipient state the message shows when its copies differ: what still needs attention first.
const STATE_PRECEDENCE: DeliveryState[] = ['DEFERRED', 'QUEUED', 'FAILED', 'DELIVERED', 'QUARANTINED', 'REJECTED', 'NOT_APPLICABLE'];

/** The message's deliveryState summed up from its recipients' copies. */
export function summarizeDeliveryState(states: readonly DeliveryState[]): DeliveryState {
  return STATE_PRECEDENCE.find((state) => states.includes(state)) ?? 'NOT_APPLICABLE';
}

/** What the gateway / mailflow front and the delivery workers read and write (issue 5). */
@Injectable()
export class DeliveryRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
  ) {}

  /**
   * A message the SMTP front has already evaluated, stored in one statement (atomic) with everything decided for it: the
   * raw bytes, the Message row (scanned or skipped), its verdicts, quarantine items for QUARANTINE decisions and
   * each recipient's copy. Resolves after the commit, so the front may answer 250: there is no moment at which the
   * message exists without its decisions (the scan sweeper never sees it PENDING).
   */
  async storeProcessed(
    input: IncomingMessage,
    verdicts: readonly VerdictInput[],
    status: 'SCANNED' | 'SKIPPED',
    copies: readonly RecipientDeliveryInput[],
    options: { quarantineExpiresAt?: Date | null; claimLeaseMs?: number | null } = {},
  ): Promise<StoredProcessed> {
    const [outcome] = await this.storeProcessedMany([{ input, verdicts, status, copies, quarantineExpiresAt: options.quarantineExpiresAt ?? null, claimLeaseMs: options.claimLeaseMs ?? null }]);
    if (outcome!.status === 'rejected') {
      throw outcome!.reason;
    }
    return outcome!.value;
  }

  /**
   * {@link storeProcessed} of several messages (the gateway front's concurrent sessions, gathered by
   * `ProcessedCommitter`) in ONE statement, so one transaction and one commit for all, with the same builders.
   * Resolves after the commit with each message's outcome in the order given; when the statement fails, nothing of
   * it is kept and each message is stored again on its own, so one bad message fails only itself. Never rejects.
   */
  async storeProcessedMany(writes: readonly ProcessedWrite[]): Promise<Array<PromiseSettledResult<StoredProcessed>>> {
    if (writes.length === 0) {
      return [];
    }
    try {
      const stored = await this.insertProcessed(writes);
      return stored.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (writes.length === 1) {
        return [{ status: 'rejected', reason: error }];
      }
      return Promise.all(writes.map((write) => settle(this.insertProcessed([write]).then(([stored]) => stored!))));
    }
  }

  private async insertProcessed(writes: readonly ProcessedWrite[]): Promise<StoredProcessed[]> {
    const inputs = writes.map((write) => write.input);
    const states = writes.map((write) => ({ scanStatus: write.status, deliveryState: summarizeDeliveryState(write.copies.map((copy) => copy.state)) }));
    const { ctes, ids } = messageInsertCtes(this.rawStore.insertSql(inputs.map((input) => input.raw)), inputs, states);
    const statement = Prisma.sql`
      WITH ${ctes},
      ${verdictInsertCtes('msg', writes.map((write, index) => ({ message: { id: ids[index]! }, verdicts: write.verdicts, quarantineExpiresAt: write.quarantineExpiresAt ?? null })))},
      ${deliveryInsertCtes(writes.map((write, index) => ({ message: { id: ids[index]! }, copies: write.copies, claimLeaseMs: write.claimLeaseMs ?? null })))}
      SELECT "id", "received_at" AS "receivedAt" FROM "msg"`;
    const rows = await sqlQuery<StoredProcessed>(this.prisma, preparedStore(statement, writes.length));
    const receivedAt = new Map(rows.map((row) => [row.id, row.receivedAt]));
    return ids.map((id) => ({ id, receivedAt: receivedAt.get(id)! }));
  }

  /**
   * A recipient domain by name, with its account and all the account's domains (RCPT TO decisions): the VERIFIED
   * row only. Several accounts may have added the name unverified (only verification claims it, at most one
   * account holds it verified: "domain_name_verified_key"); none of them owns its mail.
   */
  findRecipientDomain(name: string): Promise<GatewayDomain | null> {
    return this.prisma.domain.findFirst({
      where: { name: name.trim().toLowerCase().replace(/\.$/, ''), verificationStatus: 'VERIFIED' },
      include: { account: { include: { domains: true } } },
    });
  }

  findConnector(accountId: string): Promise<MailflowConnector | null> {
    return this.prisma.mailflowConnector.findUnique({ where: { accountId } });
  }

  saveConnector(accountId: string, connector: { sourceIps: string[]; tlsCertName?: string | null }): Promise<MailflowConnector> {
    const data = { sourceIps: connector.sourceIps, tlsCertName: connector.tlsCertName ?? null };
    return this.prisma.mailflowConnector.upsert({ where: { accountId }, create: { accountId, ...data }, update: data });
  }

  /**
   * The message with its account, domains, verdicts and copies. Bounded by the id's time (a version-7 id): the
   * message's partitions of that day, and the verdicts' partitions from that day on (a verdict is never older than
   * its message); otherwise every partition of both tables is probed, once per delivery.
   */
  findForDelivery(messageId: string): Promise<MessageForDelivery | null> {
    const range = receivedRange(messageId);
    const verdicts = range ? { where: { createdAt: { gte: range.gte } } } : true;
    return this.prisma.message.findFirst({ where: { id: messageId, receivedAt: range }, include: { account: { include: { domains: true } }, verdicts } }).then(async (message) => {
      if (!message) {
        return null;
      }
      const deliveries = await this.prisma.recipientDelivery.findMany({ where: { messageId }, orderBy: { recipient: 'asc' } });
      return { ...message, deliveries };
    });
  }

  /**
   * Claims the copies of `recipients` that are still QUEUED or DEFERRED and not claimed by a live run (their
   * "claimed_until" null or past) for `leaseMs`, in one statement, and returns them with the message's receivedAt and
   * the claim's "claimed_until" (one value for all of them: the statement's now() + lease; null when none was claimed).
   * Only a claimed copy may be relayed: two runs of one message at once (the gateway's in-process delivery and a
   * queued job, a job BullMQ hands out again after a stall, the sweeper's) never both get a copy, because the second
   * UPDATE waits for the first one's row lock and then re-checks the row (READ COMMITTED), finding it claimed or
   * DELIVERED. {@link updateDeliveries} ends the claim; {@link renewClaims} extends it while the run lasts; a run that
   * dies leaves it to expire.
   */
  async claimCopies(messageId: string, recipients: readonly string[], leaseMs: number): Promise<{ receivedAt: Date; claimedUntil: Date | null; copies: ClaimedCopy[] }> {
    const rows = await sqlQuery<ClaimedCopy & { receivedAt: Date | null; claimedUntil: Date }>(this.prisma, Prisma.sql`
      WITH "claimed" AS (
        UPDATE "recipient_delivery" SET "claimed_until" = now() + ${leaseMs}::int * interval '1 millisecond', "updated_at" = now()
        WHERE "message_id" = ${messageId}::uuid AND "recipient" = ANY(${recipients.map((recipient) => recipient.toLowerCase())}::text[])
          AND "state" IN ('QUEUED', 'DEFERRED') AND ("claimed_until" IS NULL OR "claimed_until" < now())
        RETURNING "recipient", "action", "state", "subject_tag", "attempts", "last_error", "claimed_until")
      SELECT c."recipient", c."action", c."state", c."subject_tag" AS "subjectTag", c."attempts", c."last_error" AS "lastError", c."claimed_until" AS "claimedUntil",
        m."received_at" AS "receivedAt"
      FROM "claimed" c LEFT JOIN "message" m ON m."id" = ${messageId}::uuid${receivedAround(messageId, Prisma.sql`m."received_at"`)}
      ORDER BY c."recipient"`);
    return {
      receivedAt: rows[0]?.receivedAt ?? new Date(),
      claimedUntil: rows[0]?.claimedUntil ?? null,
      copies: rows.map(({ receivedAt: _receivedAt, claimedUntil: _claimedUntil, ...copy }) => copy),
    };
  }

  /**
   * Extends the claims a process still holds, all in one statement (its claim renewer, once per interval): each copy's
   * "claimed_until" is set to now() + `leaseMs` only if it is still exactly the value that process last set
   * (`claimedUntil`, as {@link claimCopies}, the store statement or the previous renewal set it) and still in the
   * future. There is no owner column: the value is the owner. A claim that ran out is lost even if nobody took it yet,
   * and one another run took after it ran out has a later value (its now() + lease), so a process that stalled past its
   * lease never extends, nor believes it holds, a claim that is no longer its own. Give each copy once (its latest
   * value). Returns the copies renewed, all with the same new value; the others are lost.
   * The rows are found by the primary key's first column (`message_id = ANY`, estimated from the array) and matched
   * with one hashed `= ANY` of "id recipient epoch-ms" keys: no join, whose estimate of the unnested rows made
   * PostgreSQL loop over the array once per row (1 s for 2,048 copies; 13–18 ms this way, tools/bench/README.md).
   */
  async renewClaims(claims: ReadonlyArray<{ messageId: string; recipient: string; claimedUntil: Date }>, leaseMs: number): Promise<Array<{ messageId: string; recipient: string; claimedUntil: Date }>> {
    if (claims.length === 0) {
      return [];
    }
    const keys = claims.map((claim) => `${claim.messageId} ${claim.recipient.toLowerCase()} ${claim.claimedUntil.getTime()}`);
    return sqlQuery<{ messageId: string; recipient: string; claimedUntil: Date }>(this.prisma, Prisma.sql`
      UPDATE "recipient_delivery" SET "claimed_until" = now() + ${leaseMs}::int * interval '1 millisecond'
      WHERE "message_id" = ANY(${[...new Set(claims.map((claim) => claim.messageId))]}::uuid[]) AND "claimed_until" > now()
        AND ("message_id"::text || ' ' || "recipient" || ' ' || (extract(epoch FROM "claimed_until") * 1000)::bigint) = ANY(${keys}::text[])
      RETURNING "message_id" AS "messageId", "recipient", "claimed_until" AS "claimedUntil"`);
  }

  /**
   * Ends a run's claim on copies it did not get to (its attempt failed before their state was recorded). With
   * `claimedUntil`: only where the claim is still that run's (see {@link renewClaims}), never one another run took.
   */
  async releaseClaims(messageId: string, recipients: readonly string[], claimedUntil?: Date): Promise<void> {
    await sqlQuery(this.prisma, Prisma.sql`
      UPDATE "recipient_delivery" SET "claimed_until" = NULL
      WHERE "message_id" = ${messageId}::uuid AND "recipient" = ANY(${recipients.map((recipient) => recipient.toLowerCase())}::text[])
        AND ${claimedUntil ? Prisma.sql`"claimed_until" = ${claimedUntil.toISOString()}::timestamptz` : Prisma.sql`"claimed_until" IS NOT NULL`}`);
  }

  /**
   * Sets the state of some recipients' copies (ending a delivery run's claim on them, {@link claimCopies}), their
   * DELIVERED / DEFERRED / FAILED step in the recipient's event history (issue 13 §4, with the reply and attempt
   * number), and the message's summed-up deliveryState: one call of `mw_update_deliveries` (migration
   * 20261210111000), one round trip and one transaction. Inside it the message row is locked first, so the summary
   * reads every copy as committed by any other delivery or release of the same message (the statement after the lock
   * gets a fresh snapshot).
   */
  async updateDeliveries(messageId: string, recipients: readonly string[], update: RecipientDeliveryUpdate): Promise<DeliveryState> {
    const range = receivedRange(messageId);
    const event = DELIVERY_EVENT_STATES.has(update.state);
    const reply = update.state === 'DELIVERED' ? (update.reply ?? null) : (update.lastError ?? null);
    const detail = { attempted: !!update.attempted, ...(update.downstream ? { downstream: update.downstream } : {}) };
    const [row] = await sqlQuery<{ state: DeliveryState }>(this.prisma, Prisma.sql`
      SELECT "mw_update_deliveries"(${messageId}::uuid, ${range?.gte ?? '-infinity'}::timestamptz, ${range?.lt ?? 'infinity'}::timestamptz,
        ${recipients.map((recipient) => recipient.toLowerCase())}::text[], ${update.state}::"DeliveryState",
        ${update.lastError !== undefined}::boolean, ${update.lastError ?? null}::text, ${!!update.attempted}::boolean,
        ${event ? update.state : null}::"RecipientEventType", ${event ? reply : null}::text, ${JSON.stringify(detail)}::jsonb,
        ${STATE_PRECEDENCE}::"DeliveryState"[]) AS "state"`);
    return row?.state ?? 'NOT_APPLICABLE';
  }

  /**
   * Released from quarantine: the recipients' copies are queued again (created when the message predates its
   * copies, keeping the decided action so a tag still applies).
   */
  async queueRelease(messageId: string, recipients: readonly string[]): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const verdicts = await tx.verdict.findMany({ where: { messageId, recipient: { in: recipients.map((r) => r.toLowerCase()) } } });
      for (const verdict of verdicts) {
        const existing = await tx.recipientDelivery.findUnique({ where: { messageId_recipient: { messageId, recipient: verdict.recipient } } });
        if (!existing) {
          await tx.recipientDelivery.create({ data: { messageId, recipient: verdict.recipient, action: verdict.decidedAction, state: 'QUEUED' } });
        } else if (existing.state === 'QUARANTINED') {
          // Only a held copy is queued again: a redelivered release job finds it DELIVERED (or on its way) and leaves it.
          await tx.recipientDelivery.update({ where: { messageId_recipient: { messageId, recipient: verdict.recipient } }, data: { state: 'QUEUED', lastError: null } });
        }
      }
      await this.refreshMessageState(tx, messageId);
    });
  }

  /**
   * Messages with a copy still QUEUED or DEFERRED, untouched since `olderThan` and not claimed by a live delivery run
   * (the delivery sweeper's read).
   */
  async findStalled(olderThan: Date, limit = 500): Promise<string[]> {
    const rows = await this.prisma.recipientDelivery.findMany({
      where: { state: { in: ['QUEUED', 'DEFERRED'] }, updatedAt: { lt: olderThan }, OR: [{ claimedUntil: null }, { claimedUntil: { lt: new Date() } }] },
      select: { messageId: true },
      distinct: ['messageId'],
      take: limit,
    });
    return rows.map((row) => row.messageId);
  }

  /**
   * The emergency inbox (DESIGN.md §3): a mailbox's messages of the last `days` days, newest first, readable
   * while the downstream is down. Keyset pagination on (receivedAt, id); the raw content is read with
   * MessageRepository.readRaw.
   */
  listEmergencyInbox(
    accountId: string,
    mailbox: string,
    days: number,
    page: { limit?: number; before?: { receivedAt: Date; id: string } } = {},
  ): Promise<EmergencyInboxEntry[]> {
    const since = new Date(Date.now() - days * 86_400_000);
    const before = page.before;
    return this.prisma.message.findMany({
      where: {
        accountId,
        source: { in: ['GATEWAY', 'MAILFLOW'] },
        envelopeTo: { has: mailbox.toLowerCase() },
        receivedAt: { gte: since },
        ...(before ? { OR: [{ receivedAt: { lt: before.receivedAt } }, { receivedAt: before.receivedAt, id: { lt: before.id } }] } : {}),
      },
      select: { id: true, receivedAt: true, envelopeFrom: true, headerFrom: true, subject: true, size: true, deliveryState: true },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: page.limit ?? 50,
    });
  }

  /**
   * One message of the mailbox's emergency inbox (the same rules as {@link listEmergencyInbox}: the account's
   * gateway / mailflow mail addressed to the mailbox within the last `days` days); null otherwise.
   */
  findEmergencyInboxEntry(accountId: string, mailbox: string, messageId: string, days: number): Promise<EmergencyInboxEntry | null> {
    return this.prisma.message.findFirst({
      where: {
        id: messageId,
        accountId,
        source: { in: ['GATEWAY', 'MAILFLOW'] },
        envelopeTo: { has: mailbox.toLowerCase() },
        receivedAt: { gte: new Date(Date.now() - days * 86_400_000) },
      },
      select: { id: true, receivedAt: true, envelopeFrom: true, headerFrom: true, subject: true, size: true, deliveryState: true },
    });
  }

  /** The newest message of the account with this Message-ID (the quick test finds its test message). */
  findByMessageIdHeader(accountId: string, messageIdHeader: string): Promise<Message | null> {
    return this.prisma.message.findFirst({ where: { accountId, messageIdHeader }, orderBy: { receivedAt: 'desc' } });
  }

  /** Whether the quarantine item of this message is RELEASED (a release job delivers only then). */
  async isReleased(quarantineItemId: string, messageId: string): Promise<boolean> {
    const item = await this.prisma.quarantineItem.findUnique({ where: { id: quarantineItemId }, select: { status: true, messageId: true } });
    return item?.status === 'RELEASED' && item.messageId === messageId;
  }

  /** Ids of the message's quarantine items (their release jobs are `release:<id>`). */
  async findQuarantineItemIds(messageId: string): Promise<string[]> {
    const rows = await this.prisma.quarantineItem.findMany({ where: { messageId }, select: { id: true } });
    return rows.map((row) => row.id);
  }

  findDomain(id: string): Promise<Domain | null> {
    return this.prisma.domain.findUnique({ where: { id } });
  }

  private async refreshMessageState(tx: Prisma.TransactionClient, messageId: string): Promise<DeliveryState> {
    const copies = await tx.recipientDelivery.findMany({ where: { messageId }, select: { state: true } });
    const state = summarizeDeliveryState(copies.map((copy) => copy.state));
    await tx.message.update({ where: { id: messageId }, data: { deliveryState: state } });
    return state;
  }
}
