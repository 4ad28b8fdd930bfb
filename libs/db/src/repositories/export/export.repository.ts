import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type ExportDestination, type ExportDestinationKind, type Message, type ThirdPartyAlert, type Verdict } from '../../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../../db.constants';
import { PrismaService } from '../../prisma.service';
import type { RawMessageStore } from '../message/raw-message-store';
import { sqlQuery } from '../../sql';
import { VERDICT_TOPIC } from '../message/message-writes.sql';
import { REMEDIATION_FINISHED_TOPIC, type RemediationWithItems } from '../microsoft365/microsoft365.repository';
import { THIRD_PARTY_ALERT_TOPIC } from '../third-party-alert/third-party-alert.repository';
import { MAILFLOW_ALERT_TOPIC } from '../mailflow/mailflow-health.repository';

export { VERDICT_TOPIC };

/** The outbox topics the SIEM export reads. */
export const EXPORTED_TOPICS = [VERDICT_TOPIC, THIRD_PARTY_ALERT_TOPIC, REMEDIATION_FINISHED_TOPIC, MAILFLOW_ALERT_TOPIC] as const;

/** Largest bigint: a cursor (txId, MAX) has passed every row of transaction txId. */
const MAX_ID = '9223372036854775807';

/** One outbox row in export order. */
export interface OutboxRow {
  id: bigint;
  txId: bigint;
  topic: string;
  aggregateId: string;
  accountId: string | null;
  payload: Prisma.JsonValue;
  createdAt: Date;
}

/** A page of the outbox after a cursor, and where the cursor may move when the page is done. */
export interface OutboxPage {
  rows: OutboxRow[];
  /** The cursor after the last row; when the page was short, the horizon (everything older was looked at). */
  next: { txId: bigint; id: bigint };
}

export interface ExportDestinationInput {
  /** Chosen by the caller when the credentials are bound to it (encryption AAD). */
  id?: string;
  partnerId?: string | null;
  accountId?: string | null;
  name: string;
  kind: ExportDestinationKind;
  settings: Prisma.InputJsonValue;
  encryptedCredentials?: string | null;
  classUids?: number[];
  minSeverityId?: number;
  actionableOnly?: boolean;
  enabled?: boolean;
}

export type ExportDestinationUpdate = Partial<Omit<ExportDestinationInput, 'partnerId' | 'accountId' | 'kind'>>;

/** A scanned message with its verdicts and raw bytes, what an Email Activity event is made of. */
export interface ExportedMessage {
  message: Message;
  verdicts: Verdict[];
  raw: Buffer | null;
}

/** The owner of a destination: one account, or every account of a partner. */
export type DestinationOwner = { accountId: string; partnerId?: null } | { partnerId: string; accountId?: null };

/**
 * Data of the SIEM export (libs/export): destinations with their cursors, leases and counters, and the outbox read in
 * commit-safe order. The outbox order is (txId, id) below the oldest running transaction ({@link horizon}), so a
 * cursor never passes a row whose transaction has not committed yet.
 */
@Injectable()
export class ExportRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
  ) {}

  /** A new destination starts at the outbox's current horizon: it receives events committed from now on. */
  async createDestination(input: ExportDestinationInput): Promise<ExportDestination> {
    const [horizon] = await sqlQuery<{ xmin: string }>(this.prisma, Prisma.sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS "xmin"`);
    return this.prisma.exportDestination.create({
      data: {
        ...(input.id ? { id: input.id } : {}),
        partnerId: input.partnerId ?? null,
        accountId: input.accountId ?? null,
        name: input.name,
        kind: input.kind,
        settings: input.settings,
        encryptedCredentials: input.encryptedCredentials ?? null,
        classUids: input.classUids ?? [],
        minSeverityId: input.minSeverityId ?? 0,
        actionableOnly: input.actionableOnly ?? false,
        enabled: input.enabled ?? true,
        cursorTxId: BigInt(horizon!.xmin) - 1n,
        cursorId: BigInt(MAX_ID),
      },
    });
  }

  updateDestination(id: string, update: ExportDestinationUpdate): Promise<ExportDestination> {
    return this.prisma.exportDestination.update({ where: { id }, data: update });
  }

  deleteDestination(id: string): Promise<ExportDestination> {
    return this.prisma.exportDestination.delete({ where: { id } });
  }

  findDestination(id: string): Promise<ExportDestination | null> {
    return this.prisma.exportDestination.findUnique({ where: { id } });
  }

  listDestinations(owner: DestinationOwner): Promise<ExportDestination[]> {
    return this.prisma.exportDestination.findMany({
      where: owner.accountId ? { accountId: owner.accountId } : { partnerId: owner.partnerId! },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  listAllDestinations(): Promise<ExportDestination[]> {
    return this.prisma.exportDestination.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /**
   * Takes the destination for one run: enabled, not held by another live worker, and out of its back-off. Null when
   * any of these does not hold.
   */
  async claim(id: string, owner: string, leaseMs: number): Promise<ExportDestination | null> {
    const [row] = await sqlQuery<{ id: string }>(this.prisma, Prisma.sql`
      UPDATE "export_destination" SET "lease_owner" = ${owner}, "lease_until" = now() + make_interval(secs => ${leaseMs / 1000}::float8)
      WHERE "id" = ${id}::uuid AND "enabled"
        AND ("lease_until" IS NULL OR "lease_until" < now())
        AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= now())
      RETURNING "id"`);
    return row ? this.findDestination(row.id) : null;
  }

  async release(id: string, owner: string): Promise<void> {
    await sqlQuery(this.prisma, Prisma.sql`UPDATE "export_destination" SET "lease_owner" = NULL, "lease_until" = NULL WHERE "id" = ${id}::uuid AND "lease_owner" = ${owner}`);
  }

  /**
   * The next rows of the destination's owner after its cursor, in (txId, id) order, only from transactions older than
   * the oldest one still running in this database.
   */
  async readOutbox(destination: Pick<ExportDestination, 'accountId' | 'partnerId' | 'cursorTxId' | 'cursorId'>, limit: number): Promise<OutboxPage> {
    const owner = destination.accountId
      ? Prisma.sql`o."account_id" = ${destination.accountId}::uuid`
      : Prisma.sql`o."account_id" IN (SELECT "id" FROM "account" WHERE "partner_id" = ${destination.partnerId}::uuid)`;
    const xmin = await this.horizon();
    const rows = await sqlQuery<{ id: string; txId: string; topic: string; aggregateId: string; accountId: string | null; payload: Prisma.JsonValue; createdAt: Date }>(
      this.prisma,
      Prisma.sql`SELECT o."id"::text AS "id", o."tx_id"::text AS "txId", o."topic", o."aggregate_id" AS "aggregateId", o."account_id" AS "accountId",
          o."payload", o."created_at" AS "createdAt"
        FROM "outbox_event" o
        WHERE (o."tx_id", o."id") > (${destination.cursorTxId.toString()}::bigint, ${destination.cursorId.toString()}::bigint)
          AND o."tx_id" < ${xmin.toString()}::bigint
          AND o."topic" IN (${Prisma.join([...EXPORTED_TOPICS])})
          AND ${owner}
        ORDER BY o."tx_id", o."id"
        LIMIT ${limit}`,
    );
    const parsed = rows.map((row) => ({ ...row, id: BigInt(row.id), txId: BigInt(row.txId) }));
    const last = parsed.at(-1);
    const next = parsed.length === limit && last ? { txId: last.txId, id: last.id } : { txId: xmin - 1n, id: BigInt(MAX_ID) };
    // A short page never moves the cursor backwards (the horizon can be older than a cursor set by an earlier run).
    const behind = next.txId < destination.cursorTxId || (next.txId === destination.cursorTxId && next.id < destination.cursorId);
    return { rows: parsed, next: behind ? { txId: destination.cursorTxId, id: destination.cursorId } : next };
  }

  /**
   * The outbox horizon: every transaction with an id below it has ended, so rows below it are final. The oldest
   * transaction still running in this database (pg_stat_activity), capped by the next id to be handed out; statement
   * by statement, so a transaction that ends in between is visible to the read that follows. When a session of this
   * database is hidden from this role (no pg_read_all_stats), the cluster-wide pg_snapshot_xmin is used instead: it
   * is never wrong, only slower to move (any writing transaction in the cluster holds it).
   */
  private async horizon(): Promise<bigint> {
    const [snapshot] = await sqlQuery<{ xmin: string; xmax: string }>(
      this.prisma,
      Prisma.sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS "xmin", pg_snapshot_xmax(pg_current_snapshot())::text AS "xmax"`,
    );
    const [running] = await sqlQuery<{ oldest: string | null; hidden: boolean | null }>(
      this.prisma,
      Prisma.sql`SELECT min("backend_xid"::text::bigint)::text AS "oldest", bool_or("query" = '<insufficient privilege>') AS "hidden"
        FROM pg_stat_activity WHERE "datname" = current_database() AND "pid" <> pg_backend_pid()`,
    );
    const xmax = BigInt(snapshot!.xmax);
    if (running?.hidden) {
      return BigInt(snapshot!.xmin);
    }
    if (running?.oldest === null || running?.oldest === undefined) {
      return xmax;
    }
    // backend_xid is a 32-bit xid; tx_id is the 64-bit xid8 (epoch in the high half), so put it in xmax's epoch.
    const epoch = (xmax >> 32n) << 32n;
    let oldest = epoch | BigInt(running.oldest);
    if (oldest > xmax) {
      oldest -= 1n << 32n;
    }
    return oldest < xmax ? oldest : xmax;
  }

  /** The messages of verdict events, with their verdicts and raw bytes. */
  async loadMessages(ids: readonly string[]): Promise<Map<string, ExportedMessage>> {
    if (ids.length === 0) {
      return new Map();
    }
    const messages = await this.prisma.message.findMany({ where: { id: { in: [...ids] } }, include: { verdicts: { orderBy: { recipient: 'asc' } } } });
    const loaded = await Promise.all(
      messages.map(async ({ verdicts, ...message }) => ({ message, verdicts, raw: await this.rawStore.get(this.prisma, message.rawMessageId) })),
    );
    return new Map(loaded.map((entry) => [entry.message.id, entry]));
  }

  async loadAlerts(ids: readonly string[]): Promise<Map<string, ThirdPartyAlert>> {
    if (ids.length === 0) {
      return new Map();
    }
    const alerts = await this.prisma.thirdPartyAlert.findMany({ where: { id: { in: [...ids] } } });
    return new Map(alerts.map((alert) => [alert.id, alert]));
  }

  /** Finished Microsoft 365 remediations with their per-mailbox items (one Remediation Activity each). */
  async loadRemediations(ids: readonly string[]): Promise<Map<string, RemediationWithItems>> {
    if (ids.length === 0) {
      return new Map();
    }
    const remediations = await this.prisma.m365Remediation.findMany({ where: { id: { in: [...ids] } }, include: { items: { orderBy: [{ recipient: 'asc' }, { messageId: 'asc' }] } } });
    return new Map(remediations.map((remediation) => [remediation.id, remediation]));
  }

  /**
   * Records a delivered (or wholly filtered) page: the cursor moves and the counters grow, only while the lease is
   * still this worker's (a worker that lost its lease must not move a cursor another worker now owns).
   */
  async advance(id: string, owner: string, next: { txId: bigint; id: bigint }, counts: { sent: number; filtered: number; batches: number }, leaseMs: number): Promise<boolean> {
    const rows = await sqlQuery<{ id: string }>(this.prisma, Prisma.sql`
      UPDATE "export_destination" SET "cursor_tx_id" = ${next.txId.toString()}::bigint, "cursor_id" = ${next.id.toString()}::bigint,
        "events_sent" = "events_sent" + ${counts.sent}, "events_filtered" = "events_filtered" + ${counts.filtered},
        "batches_sent" = "batches_sent" + ${counts.batches},
        "last_success_at" = CASE WHEN ${counts.batches} > 0 THEN now() ELSE "last_success_at" END,
        "consecutive_failures" = 0, "next_attempt_at" = NULL,
        "lease_until" = now() + make_interval(secs => ${leaseMs / 1000}::float8)
      WHERE "id" = ${id}::uuid AND "lease_owner" = ${owner}
      RETURNING "id"`);
    return rows.length === 1;
  }

  /** A failed send: the cursor stays, the error is kept, and no attempt is made before `retryAt`. */
  async recordFailure(id: string, owner: string, error: string, retryAt: Date): Promise<void> {
    await sqlQuery(this.prisma, Prisma.sql`
      UPDATE "export_destination" SET "last_error" = ${error.slice(0, 2000)}, "last_error_at" = now(),
        "consecutive_failures" = "consecutive_failures" + 1, "next_attempt_at" = ${retryAt}::timestamptz,
        "lease_owner" = NULL, "lease_until" = NULL
      WHERE "id" = ${id}::uuid AND "lease_owner" = ${owner}`);
  }

  /** Outbox rows of the exported topics not yet passed by the destination, and the age of the oldest of them. */
  async lag(destination: Pick<ExportDestination, 'accountId' | 'partnerId' | 'cursorTxId' | 'cursorId'>): Promise<{ events: number; oldestAt: Date | null }> {
    const owner = destination.accountId
      ? Prisma.sql`o."account_id" = ${destination.accountId}::uuid`
      : Prisma.sql`o."account_id" IN (SELECT "id" FROM "account" WHERE "partner_id" = ${destination.partnerId}::uuid)`;
    const [row] = await sqlQuery<{ events: number; oldestAt: Date | null }>(
      this.prisma,
      Prisma.sql`SELECT count(*)::int AS "events", min(o."created_at") AS "oldestAt" FROM "outbox_event" o
        WHERE (o."tx_id", o."id") > (${destination.cursorTxId.toString()}::bigint, ${destination.cursorId.toString()}::bigint)
          AND o."topic" IN (${Prisma.join([...EXPORTED_TOPICS])}) AND ${owner}`,
    );
    return row ?? { events: 0, oldestAt: null };
  }

  /**
   * Deletes exported-topic rows that every destination has passed (and, with no destination at all, rows older than
   * the horizon: a new destination starts at the horizon, so nobody will read them). Returns how many went.
   */
  async prune(limit = 5000): Promise<number> {
    const rows = await sqlQuery<{ deleted: number }>(
      this.prisma,
      Prisma.sql`WITH "low" AS (
          SELECT "cursor_tx_id" AS "tx", "cursor_id" AS "id" FROM "export_destination" ORDER BY "cursor_tx_id", "cursor_id" LIMIT 1),
        "bound" AS (
          SELECT COALESCE((SELECT "tx" FROM "low"), pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1) AS "tx",
                 COALESCE((SELECT "id" FROM "low"), ${MAX_ID}::bigint) AS "id"),
        "gone" AS (
          DELETE FROM "outbox_event" WHERE "id" IN (
            SELECT o."id" FROM "outbox_event" o, "bound" b
            WHERE (o."tx_id", o."id") <= (b."tx", b."id") AND o."topic" IN (${Prisma.join([...EXPORTED_TOPICS])})
            ORDER BY o."tx_id", o."id" LIMIT ${limit})
          RETURNING 1)
        SELECT count(*)::int AS "deleted" FROM "gone"`,
    );
    return rows[0]?.deleted ?? 0;
  }
}
