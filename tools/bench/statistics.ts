import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { StatisticsRepository, type PrismaClient, type PrismaService } from '@mailwarden/db';
import { summarize, type LatencySummary } from './stats';

export interface StatisticsFigures {
  /** Verdicts per day of the seeded tenant. */
  perDay: number;
  days: number;
  /** Aggregate rows the dashboard reads for the window. */
  hourlyRows: number;
  topRows: number;
  /** The same after the scanner's compaction (StatsCompactorService's cutoffs), which the dashboard then reads. */
  compactedRows: number;
  compactionMs: number;
  latency: LatencySummary;
  failures: number;
}

const DAYS = 30;
/** Share of verdicts that were not simply delivered (they feed the top senders / recipients). */
const THREAT_SHARE = 0.05;
/** Share of verdicts with a data-control rule match. */
const RULE_SHARE = 0.01;

/**
 * Seeds the dashboard aggregates a busy tenant's month leaves behind (issue 13 §4), straight in PostgreSQL: closed
 * hours compacted to one row per key (as StatsCompactorService leaves them), 60 keys per hour (3 directions × 4
 * decided actions × 5 failed-check values), and top-list rows for `perDay × THREAT_SHARE` senders and recipients a
 * day drawn with a skew from pools of 20,000 senders and 5,000 recipients, plus 20 data-control rules. The current
 * hour keeps its 8 shards. Ends with VACUUM ANALYZE.
 */
export async function seedStatistics(pg: Client, accountId: string, perDay: number): Promise<{ hourlyRows: number; topRows: number }> {
  const hours = DAYS * 24;
  const perHour = Math.max(1, Math.round(perDay / 24));
  const threatsPerHour = Math.max(1, Math.round(perHour * THREAT_SHARE));
  const rulesPerHour = Math.max(1, Math.round(perHour * RULE_SHARE));
  const hourly = await pg.query(
    `INSERT INTO stats_hourly (account_id, hour, direction, decided_action, applied_action, failed_check, shard, count)
     SELECT $1::uuid, date_trunc('hour', now()) - make_interval(hours => h), d::"MessageDirection", a::"PolicyAction", a, f,
            CASE WHEN h = 0 THEN s ELSE 0 END, greatest(1, ($2::int / 60) * (0.5 + random()))::bigint
     FROM generate_series(0, $3::int - 1) AS h
       CROSS JOIN unnest(ARRAY['INBOUND', 'OUTBOUND', 'INTERNAL']) AS d
       CROSS JOIN unnest(ARRAY['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT']) AS a
       CROSS JOIN unnest(ARRAY['', 'dmarc', 'spf', 'dkim', 'header-anomaly']) AS f
       CROSS JOIN generate_series(0, 7) AS s
     WHERE h = 0 OR s = 0
     ON CONFLICT DO NOTHING`,
    [accountId, perHour, hours],
  );
  // Skewed draws (a few senders send most of the bad mail): floor(pool × random()³).
  const top = await pg.query(
    `INSERT INTO stats_top_hourly (account_id, dimension, hour, value, shard, count)
     SELECT $1::uuid, dimension, date_trunc('hour', now()) - make_interval(hours => h), value, 0, count(*)
     FROM (
       SELECT h, 'sender' AS dimension, 'sender' || floor(20000 * random() ^ 3)::int || '@spam' || floor(200 * random())::int || '.example' AS value
       FROM generate_series(0, $2::int - 1) AS h CROSS JOIN generate_series(1, $3::int)
       UNION ALL
       SELECT h, 'recipient', 'user' || floor(5000 * random() ^ 3)::int || '@tenant.example'
       FROM generate_series(0, $2::int - 1) AS h CROSS JOIN generate_series(1, $3::int)
       UNION ALL
       SELECT h, 'rule', 'rule-' || floor(20 * random() ^ 2)::int
       FROM generate_series(0, $2::int - 1) AS h CROSS JOIN generate_series(1, $4::int)
     ) t
     GROUP BY 1, 2, 3, 4
     ON CONFLICT DO NOTHING`,
    [accountId, hours, threatsPerHour, rulesPerHour],
  );
  await pg.query('VACUUM (ANALYZE) stats_hourly, stats_top_hourly');
  return { hourlyRows: hourly.rowCount ?? 0, topRows: top.rowCount ?? 0 };
}

/** Runs the scanner's compaction over the seeded month (StatsCompactorService's cutoffs: hours and days closed over an hour ago). */
export async function compactStatistics(prisma: PrismaClient, pg: Client): Promise<{ compactedRows: number; compactionMs: number }> {
  const repository = new StatisticsRepository(prisma as unknown as PrismaService);
  const began = performance.now();
  const now = Date.now();
  await repository.compact(new Date(Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000));
  await repository.compactDays(new Date(Math.floor((now - 3_600_000) / 86_400_000) * 86_400_000));
  const compactionMs = performance.now() - began;
  await pg.query('VACUUM (ANALYZE) stats_hourly, stats_top_hourly');
  const { rows } = await pg.query<{ n: number }>('SELECT (SELECT count(*) FROM stats_hourly) + (SELECT count(*) FROM stats_top_hourly) AS n');
  return { compactedRows: Number(rows[0]!.n), compactionMs };
}

/** GET /v1/accounts/:id/statistics for the last 30 days, `requests` times after one warm-up; latency as the client sees it. */
export async function measureStatistics(options: { baseUrl: string; accountId: string; apiKey: string; requests: number }): Promise<{ latency: LatencySummary; failures: number }> {
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const to = new Date();
  const from = new Date(to.getTime() - DAYS * 86_400_000);
  const url = `${options.baseUrl}/v1/accounts/${options.accountId}/statistics?${new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), top: '10' })}`;
  await fetch(url, { headers }).then((response) => response.arrayBuffer());
  const timings: number[] = [];
  let failures = 0;
  for (let index = 0; index < options.requests; index++) {
    const began = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (response.status === 200) {
      timings.push(performance.now() - began);
    } else {
      failures++;
    }
  }
  return { latency: summarize(timings), failures };
}

export const STATISTICS_DAYS = DAYS;
