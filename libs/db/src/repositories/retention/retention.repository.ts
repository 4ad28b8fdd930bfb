import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { sqlQuery, sqlSession, type SqlRunner } from '../../sql';

/**
 * The tables partitioned by day (migration 20261206160000) and which window decides when a day is dropped: the
 * message rows go with their raw bytes (the emergency inbox and the quarantine read the bytes through them), the
 * verdicts, recipient events and outbox events with the history.
 */
export const PARTITIONED_TABLES = {
  message: 'raw',
  raw_message: 'raw',
  verdict: 'history',
  recipient_event: 'history',
  outbox_event: 'history',
} as const satisfies Record<string, 'raw' | 'history'>;

export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

/** One tenant's cut-off instants: what was received (or created) before them is past its window. */
export interface TenantCutoffs {
  accountId: string;
  history: Date;
  raw: Date;
  quarantine: Date;
  auditLog: Date;
}

export interface PartitionInfo {
  name: string;
  /** Exclusive upper bound; null for a partition without one. */
  upper: Date | null;
  /** Detached with CONCURRENTLY by a run that stopped before it finished. */
  detachPending: boolean;
}

export interface TenantPurgeCounts {
  /** Messages the batch picked (fewer than the limit: the tenant is done). */
  batch: number;
  messages: number;
  rawMessages: number;
  verdicts: number;
  recipientEvents: number;
}

/** A stored RETENTION policy row (ACCOUNT scope: the tenant's windows; PARTNER scope: the ceiling). */
export interface RetentionPolicyRow {
  scope: 'ACCOUNT' | 'PARTNER';
  accountId: string | null;
  partnerId: string | null;
  settings: unknown;
}

/** Key of the session advisory lock that keeps retention runs of several scanner processes one at a time. */
const RETENTION_LOCK_KEY = 0x6d77_7265; // "mwre"

const AUDIT_RETENTION = Prisma.sql`SELECT set_config('mailwarden.audit_retention', 'on', true)`;

const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * The retention purge's reads and writes (issue 20). Expired days go by dropping partitions; a tenant whose window is
 * shorter than the longest one is purged by bounded batches, each one statement (or one transaction), so a run that
 * stops anywhere has removed whole messages or none, and the next run goes on from there.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Runs `work` on one session holding the retention lock; null without running it when another process holds it.
   * Released with the session.
   */
  async withLock<T>(work: (run: SqlRunner) => Promise<T>): Promise<T | null> {
    return sqlSession(this.prisma, async (run) => {
      const [row] = await run<{ locked: boolean }>(Prisma.sql`SELECT pg_try_advisory_lock(${RETENTION_LOCK_KEY}::bigint) AS "locked"`);
      if (!row?.locked) {
        return null;
      }
      try {
        return await work(run);
      } finally {
        await run(Prisma.sql`SELECT pg_advisory_unlock(${RETENTION_LOCK_KEY}::bigint)`);
      }
    });
  }

  /**
   * Flushes the pending lists of the search GIN indexes of "message" (subject trigrams, envelope recipients) into
   * their trees (migration 20261208100000, `mw_flush_search_pending`), so that a store seldom finds a full list and
   * flushes it itself. Returns the list pages flushed; -1 when another session was flushing.
   */
  async flushSearchPending(): Promise<number> {
    const [row] = await sqlQuery<{ pages: string }>(this.prisma, Prisma.sql`SELECT "mw_flush_search_pending"() AS "pages"`);
    return Number(row?.pages ?? 0);
  }

  /** The accounts with their partner, and every stored RETENTION policy. */
  async tenants(): Promise<{ accounts: Array<{ id: string; partnerId: string | null }>; policies: RetentionPolicyRow[] }> {
    const [accounts, policies] = await Promise.all([
      this.prisma.account.findMany({ select: { id: true, partnerId: true } }),
      this.prisma.policy.findMany({ where: { kind: 'RETENTION', scope: { in: ['ACCOUNT', 'PARTNER'] } }, select: { scope: true, accountId: true, partnerId: true, settings: true } }),
    ]);
    return { accounts, policies: policies as RetentionPolicyRow[] };
  }

  /** Creates the day partitions of every partitioned table from `from` for `days` days; returns the new ones. */
  async ensurePartitions(run: SqlRunner, from: Date, days: number): Promise<string[]> {
    const created: string[] = [];
    for (const table of Object.keys(PARTITIONED_TABLES)) {
      for (let day = 0; day < days; day += 1) {
        const date = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + day)).toISOString().slice(0, 10);
        const [row] = await run<{ created: boolean }>(Prisma.sql`SELECT "mw_ensure_day_partition"(${table}, ${date}::date) AS "created"`);
        if (row?.created) {
          created.push(`${table}_p${date.replace(/-/g, '')}`);
        }
      }
    }
    return created;
  }

  async partitions(run: SqlRunner, table: PartitionedTable): Promise<PartitionInfo[]> {
    const rows = await run<{ name: string; upper: Date | null; detachPending: boolean }>(Prisma.sql`
      SELECT c.relname AS "name", (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS "upper",
        i.inhdetachpending AS "detachPending"
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ${quote(table)}::regclass
      ORDER BY 2`);
    return rows;
  }

  /**
   * Drops every partition of `table` whose days all end at or before `cutoff`: DETACH … CONCURRENTLY (the inserts
   * of the message path go on meanwhile; a plain DROP would lock the parent), then DROP. A detach left pending by a
   * run that stopped is finalized first. Returns the partitions dropped.
   */
  async dropPartitionsBefore(run: SqlRunner, table: PartitionedTable, cutoff: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const partition of await this.partitions(run, table)) {
      if (!partition.upper || partition.upper.getTime() > cutoff.getTime()) {
        continue;
      }
      const detach = partition.detachPending ? 'FINALIZE' : 'CONCURRENTLY';
      await run(Prisma.raw(`ALTER TABLE ${quote(table)} DETACH PARTITION ${quote(partition.name)} ${detach}`));
      await run(Prisma.raw(`DROP TABLE ${quote(partition.name)}`));
      dropped.push(partition.name);
    }
    // A partition detached by a run that stopped before its DROP: a table of our name pattern, no longer attached.
    const orphans = await run<{ name: string }>(Prisma.sql`
      SELECT c.relname AS "name" FROM pg_class c
      WHERE c.relkind = 'r' AND c.relname ~ ${`^${table}_(p[0-9]{8}|legacy)$`} AND NOT c.relispartition
        AND c.relnamespace = 'public'::regnamespace`);
    for (const { name } of orphans) {
      const day = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
      const upper = day ? Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + 1) : Number.NEGATIVE_INFINITY;
      if (upper <= cutoff.getTime()) {
        await run(Prisma.raw(`DROP TABLE ${quote(name)}`));
        dropped.push(name);
      }
    }
    return dropped;
  }

  /**
   * One batch of a tenant's messages past its raw-bytes window (at most `limit`, oldest first), removed in one
   * statement with their raw bytes, dedup keys, scan state, verdicts, events, deliveries and quarantine items.
   */
  async purgeTenantMessages(run: SqlRunner, cutoffs: TenantCutoffs, limit: number): Promise<TenantPurgeCounts> {
    const [row] = await run<TenantPurgeCounts>(Prisma.sql`
      WITH "victim" AS (
        SELECT "id", "received_at", "raw_message_id", "dedup_key" FROM "message"
        WHERE "account_id" = ${cutoffs.accountId}::uuid AND "received_at" < ${cutoffs.raw}
        ORDER BY "received_at" LIMIT ${limit}::int),
      "del_verdict" AS (DELETE FROM "verdict" WHERE "message_id" IN (SELECT "id" FROM "victim") RETURNING 1),
      "del_event" AS (DELETE FROM "recipient_event" WHERE "message_id" IN (SELECT "id" FROM "victim") RETURNING 1),
      "del_delivery" AS (DELETE FROM "recipient_delivery" WHERE "message_id" IN (SELECT "id" FROM "victim")),
      "del_quarantine" AS (DELETE FROM "quarantine_item" WHERE "account_id" = ${cutoffs.accountId}::uuid AND "message_id" IN (SELECT "id" FROM "victim")),
      "del_dedup" AS (DELETE FROM "message_dedup" WHERE "account_id" = ${cutoffs.accountId}::uuid AND ("dedup_key", "message_id") IN (SELECT "dedup_key", "id" FROM "victim" WHERE "dedup_key" IS NOT NULL)),
      "del_scan" AS (DELETE FROM "message_scan" WHERE "message_id" IN (SELECT "id" FROM "victim")),
      "del_raw" AS (DELETE FROM "raw_message" WHERE "id" IN (SELECT "raw_message_id" FROM "victim") RETURNING 1),
      "del_message" AS (DELETE FROM "message" WHERE ("id", "received_at") IN (SELECT "id", "received_at" FROM "victim") RETURNING 1)
      SELECT (SELECT count(*)::int FROM "victim") AS "batch", (SELECT count(*)::int FROM "del_message") AS "messages", (SELECT count(*)::int FROM "del_raw") AS "rawMessages",
        (SELECT count(*)::int FROM "del_verdict") AS "verdicts", (SELECT count(*)::int FROM "del_event") AS "recipientEvents"`);
    return row!;
  }

  /**
   * One batch of a tenant's messages kept for their bytes but past its history window: their verdicts and recipient
   * events (the message row stays until its bytes go). Only messages that still have some are picked.
   */
  async purgeTenantHistory(run: SqlRunner, cutoffs: TenantCutoffs, limit: number): Promise<TenantPurgeCounts> {
    if (cutoffs.history.getTime() <= cutoffs.raw.getTime()) {
      return { batch: 0, messages: 0, rawMessages: 0, verdicts: 0, recipientEvents: 0 };
    }
    const [row] = await run<TenantPurgeCounts>(Prisma.sql`
      WITH "victim" AS (
        SELECT m."id" FROM "message" m
        WHERE m."account_id" = ${cutoffs.accountId}::uuid AND m."received_at" < ${cutoffs.history} AND m."received_at" >= ${cutoffs.raw}
          AND (EXISTS (SELECT 1 FROM "verdict" v WHERE v."message_id" = m."id") OR EXISTS (SELECT 1 FROM "recipient_event" e WHERE e."message_id" = m."id"))
        ORDER BY m."received_at" LIMIT ${limit}::int),
      "del_verdict" AS (DELETE FROM "verdict" WHERE "message_id" IN (SELECT "id" FROM "victim") RETURNING 1),
      "del_event" AS (DELETE FROM "recipient_event" WHERE "message_id" IN (SELECT "id" FROM "victim") RETURNING 1)
      SELECT (SELECT count(*)::int FROM "victim") AS "batch", 0 AS "messages", 0 AS "rawMessages", (SELECT count(*)::int FROM "del_verdict") AS "verdicts", (SELECT count(*)::int FROM "del_event") AS "recipientEvents"`);
    return row!;
  }

  /**
   * One batch of a tenant's HELD quarantine items that expired (their expiry passed, or they are older than the
   * tenant's quarantine window): marked DELETED, with a DELETED recipient event and a `quarantine.expired` audit
   * entry each, in one statement.
   */
  async expireQuarantine(run: SqlRunner, cutoffs: TenantCutoffs, now: Date, limit: number): Promise<number> {
    const [row] = await run<{ expired: number }>(Prisma.sql`
      WITH "expired" AS (
        UPDATE "quarantine_item" SET "status" = 'DELETED'
        WHERE "id" IN (
          SELECT "id" FROM "quarantine_item"
          WHERE "account_id" = ${cutoffs.accountId}::uuid AND "status" = 'HELD' AND ("expires_at" <= ${now} OR "created_at" < ${cutoffs.quarantine})
          ORDER BY "created_at" LIMIT ${limit}::int FOR UPDATE SKIP LOCKED)
          AND "status" = 'HELD'
        RETURNING "id", "account_id", "message_id", "recipient", "enforced", "created_at", "expires_at"),
      "event" AS (
        INSERT INTO "recipient_event" ("message_id", "recipient", "type", "detail")
        SELECT "message_id", "recipient", 'DELETED', jsonb_build_object('quarantineItemId', "id", 'actor', 'retention', 'reason', 'expired') FROM "expired"),
      "audit" AS (
        INSERT INTO "audit_event" ("actor", "account_id", "action", "object_type", "object_id", "before", "after")
        SELECT 'retention', "account_id", 'quarantine.expired', 'quarantine_item', "id"::text,
          jsonb_build_object('status', 'HELD', 'enforced', "enforced", 'createdAt', "created_at", 'expiresAt', "expires_at"),
          jsonb_build_object('status', 'DELETED', 'reason', 'expired')
        FROM "expired")
      SELECT count(*)::int AS "expired" FROM "expired"`);
    return row!.expired;
  }

  /** One batch of a tenant's (or, with `accountId` null, a partner's own) audit events older than `cutoff`. */
  async purgeAuditLog(run: SqlRunner, scope: { accountId: string } | { partnerId: string }, cutoff: Date, limit: number): Promise<number> {
    const where = 'accountId' in scope ? Prisma.sql`"account_id" = ${scope.accountId}::uuid` : Prisma.sql`"account_id" IS NULL AND "partner_id" = ${scope.partnerId}::uuid`;
    await run(Prisma.sql`BEGIN`);
    try {
      await run(AUDIT_RETENTION);
      const rows = await run(Prisma.sql`
        DELETE FROM "audit_event" WHERE "id" IN (SELECT "id" FROM "audit_event" WHERE ${where} AND "at" < ${cutoff} ORDER BY "id" LIMIT ${limit}::int)
        RETURNING "id"`);
      await run(Prisma.sql`COMMIT`);
      return rows.length;
    } catch (error) {
      await run(Prisma.sql`ROLLBACK`).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Rows of the plain (not partitioned) tables left by dropped partitions, one batch each: dedup keys of messages
   * past every raw window, scan state of PENDING messages as old, deliveries last changed before every history window, quarantine items of dropped days.
   */
  async purgeOrphans(run: SqlRunner, raw: Date, history: Date, limit: number): Promise<number> {
    const [row] = await run<{ removed: number }>(Prisma.sql`
      WITH "del_dedup" AS (
        DELETE FROM "message_dedup" WHERE ("account_id", "dedup_key") IN (
          SELECT "account_id", "dedup_key" FROM "message_dedup" WHERE "received_at" < ${raw} LIMIT ${limit}::int) RETURNING 1),
      "del_scan" AS (
        DELETE FROM "message_scan" WHERE "message_id" IN (
          SELECT "message_id" FROM "message_scan" WHERE "received_at" < ${raw} LIMIT ${limit}::int) RETURNING 1),
      "del_delivery" AS (
        DELETE FROM "recipient_delivery" WHERE ("message_id", "recipient") IN (
          SELECT "message_id", "recipient" FROM "recipient_delivery"
          WHERE "state" = ANY (enum_range(NULL::"DeliveryState")) AND "updated_at" < ${history} LIMIT ${limit}::int) RETURNING 1),
      "del_quarantine" AS (
        DELETE FROM "quarantine_item" WHERE "id" IN (
          SELECT "id" FROM "quarantine_item" WHERE "status" <> 'HELD' AND "created_at" < ${raw} LIMIT ${limit}::int) RETURNING 1)
      SELECT (SELECT count(*) FROM "del_dedup")::int + (SELECT count(*) FROM "del_scan")::int + (SELECT count(*) FROM "del_delivery")::int + (SELECT count(*) FROM "del_quarantine")::int AS "removed"`);
    return row!.removed;
  }
}
