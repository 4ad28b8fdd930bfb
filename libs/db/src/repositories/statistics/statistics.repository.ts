import { Injectable, Optional } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { ReadReplicaRouter } from '../../read-replica';
import { sqlQuery } from '../../sql';

export interface StatisticsCount {
  key: string;
  count: number;
}

/** Verdict counts of one account over hour-aligned [from, to), read from the hourly aggregates only. */
export interface AccountStatistics {
  total: number;
  byDirection: StatisticsCount[];
  byDecidedAction: StatisticsCount[];
  /** `NONE`: nothing applied (monitor-only). */
  byAppliedAction: StatisticsCount[];
  /** Verdicts whose first failing check was this one (verdicts without a failed check are not listed). */
  byFailedCheck: StatisticsCount[];
  byDataControlRule: StatisticsCount[];
  topSenders: StatisticsCount[];
  topRecipients: StatisticsCount[];
}

const TOP_DIMENSIONS = ['sender', 'recipient', 'rule'] as const;

/** The aggregate tables and their key columns besides account_id, hour and shard (constants: safe to splice). */
const FOLDED_TABLES = [
  { name: 'stats_hourly', keys: ['direction', 'decided_action', 'applied_action', 'failed_check'] },
  { name: 'stats_top_hourly', keys: ['dimension', 'value'] },
] as const;

/** Top-list values kept per account, dimension and closed hour, and per closed day (approximate top lists beyond). */
export const TOP_VALUES_KEPT_PER_HOUR = 100;
export const TOP_VALUES_KEPT_PER_DAY = 200;

/**
 * Dashboard figures (issue 13 §4) from stats_hourly and stats_top_hourly, which the verdict write keeps up to date
 * (message-writes.sql.ts): two index range scans over at most a few rows per hour, whatever the mail volume.
 */
@Injectable()
export class StatisticsRepository {
  constructor(
    private readonly prisma: PrismaService,
    /** The dashboard reads from the read replica (DATABASE_READ_URL) while it lags little; compaction writes to the primary. */
    @Optional() private readonly reads?: ReadReplicaRouter,
  ) {}

  private reader() {
    return this.reads?.reader() ?? Promise.resolve(this.prisma);
  }

  /**
   * Folds the shards of every hour before `before` into shard 0 (one statement per table: the rows are deleted and
   * their sum added back atomically), so a closed hour is one row per key; its top lists keep their
   * {@link TOP_VALUES_KEPT_PER_HOUR} largest values. Writers only ever add to the current
   * hour, so a closed hour has no writer; concurrent compactions each move only the rows they deleted.
   * Returns the rows removed.
   */
  async compact(before: Date): Promise<number> {
    const folded = await this.fold(before, Prisma.sql`"hour"`);
    return folded + (await this.trimTopLists(before, TOP_VALUES_KEPT_PER_HOUR));
  }

  /**
   * Folds every day that ended before `before` (UTC days) into one row per key at the day's midnight hour, and keeps
   * only the `keep` largest values per account, dimension and day in the top lists. A month then reads about
   * 30 rows per key and 30 × `keep` per top list instead of every hour's senders and recipients. Returns the rows
   * removed. Windows reaching into such days count them whole (documented in the admin API README).
   */
  async compactDays(before: Date, keep = TOP_VALUES_KEPT_PER_DAY): Promise<number> {
    const folded = await this.fold(before, Prisma.sql`date_trunc('day', "hour" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
    // A separate statement: it must see the rows the fold just wrote.
    return folded + (await this.trimTopLists(before, keep));
  }

  /**
   * Moves every row before `before` that is not already at (`period`, shard 0) there, one statement per table: the
   * rows are deleted and their sum added back atomically. `period` maps a row's hour to the hour it is kept under.
   */
  private async fold(before: Date, period: Prisma.Sql): Promise<number> {
    let removed = 0;
    for (const table of FOLDED_TABLES) {
      const name = Prisma.raw(`"${table.name}"`);
      const keys = Prisma.raw(table.keys.map((key) => `"${key}"`).join(', '));
      const positions = Prisma.raw(table.keys.map((_, index) => String(index + 3)).join(', '));
      const [row] = await sqlQuery<{ removed: number }>(
        this.prisma,
        Prisma.sql`
          WITH "moved" AS (
            DELETE FROM ${name} WHERE "hour" < ${before}::timestamptz AND ("hour" <> ${period} OR "shard" <> 0)
            RETURNING "account_id", ${period} AS "period", ${keys}, "count"),
          "folded" AS (
            INSERT INTO ${name} ("account_id", "hour", ${keys}, "shard", "count")
            SELECT "account_id", "period", ${keys}, 0, sum("count") FROM "moved"
            GROUP BY 1, 2, ${positions} ORDER BY 1, 2, ${positions}
            ON CONFLICT ("account_id", "hour", ${keys}, "shard") DO UPDATE SET "count" = ${name}."count" + EXCLUDED."count")
          SELECT count(*)::int AS "removed" FROM "moved"`,
      );
      removed += row!.removed;
    }
    return removed;
  }

  /** Keeps the `keep` largest values per account, dimension and (closed) hour or day row before `before`. */
  private async trimTopLists(before: Date, keep: number): Promise<number> {
    const [trimmed] = await sqlQuery<{ removed: number }>(
      this.prisma,
      Prisma.sql`
        WITH "ranked" AS (
          SELECT "account_id", "dimension", "hour", "value",
            row_number() OVER (PARTITION BY "account_id", "dimension", "hour" ORDER BY "count" DESC, "value") AS "rank"
          FROM "stats_top_hourly" WHERE "hour" < ${before}::timestamptz),
        "dropped" AS (
          DELETE FROM "stats_top_hourly" t USING "ranked" r
          WHERE r."rank" > ${keep}::int AND t."account_id" = r."account_id" AND t."dimension" = r."dimension" AND t."hour" = r."hour" AND t."value" = r."value"
          RETURNING 1)
        SELECT count(*)::int AS "removed" FROM "dropped"`,
    );
    return trimmed!.removed;
  }

  async forAccount(accountId: string, from: Date, to: Date, top: number): Promise<AccountStatistics> {
    const reader = await this.reader();
    const [groups, tops] = await Promise.all([
      sqlQuery<{ direction: string | null; decided: string | null; applied: string | null; failed: string | null; grouping: number; count: string }>(
        reader,
        Prisma.sql`
          SELECT "direction"::text AS "direction", "decided_action"::text AS "decided", "applied_action" AS "applied", "failed_check" AS "failed",
            GROUPING("direction", "decided_action", "applied_action", "failed_check")::int AS "grouping", sum("count")::text AS "count"
          FROM "stats_hourly"
          WHERE "account_id" = ${accountId}::uuid AND "hour" >= ${from}::timestamptz AND "hour" < ${to}::timestamptz
          GROUP BY GROUPING SETS (("direction"), ("decided_action"), ("applied_action"), ("failed_check"), ())`,
      ),
      sqlQuery<{ dimension: (typeof TOP_DIMENSIONS)[number]; value: string; count: string }>(
        reader,
        Prisma.sql`
          SELECT "dimension", "value", "count" FROM (
            SELECT "dimension", "value", sum("count")::text AS "count",
              row_number() OVER (PARTITION BY "dimension" ORDER BY sum("count") DESC, "value") AS "rank"
            FROM "stats_top_hourly"
            WHERE "account_id" = ${accountId}::uuid AND "dimension" = ANY(${[...TOP_DIMENSIONS]}::text[])
              AND "hour" >= ${from}::timestamptz AND "hour" < ${to}::timestamptz
            GROUP BY "dimension", "value") t
          WHERE "rank" <= ${top}::int
          ORDER BY "dimension", "rank"`,
      ),
    ]);
    // GROUPING(...) has a bit set for each column not grouped: 0b0111 = by direction, 0b1011 = by decided action, ...
    const pick = (grouping: number, key: (row: (typeof groups)[number]) => string | null) =>
      groups
        .filter((row) => row.grouping === grouping && key(row) !== null && key(row) !== '')
        .map((row) => ({ key: key(row)!, count: Number(row.count) }))
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
    const topOf = (dimension: (typeof TOP_DIMENSIONS)[number]) => tops.filter((row) => row.dimension === dimension).map((row) => ({ key: row.value, count: Number(row.count) }));
    return {
      total: Number(groups.find((row) => row.grouping === 0b1111)?.count ?? 0),
      byDirection: pick(0b0111, (row) => row.direction),
      byDecidedAction: pick(0b1011, (row) => row.decided),
      byAppliedAction: pick(0b1101, (row) => row.applied),
      byFailedCheck: pick(0b1110, (row) => row.failed),
      byDataControlRule: topOf('rule'),
      topSenders: topOf('sender'),
      topRecipients: topOf('recipient'),
    };
  }
}
