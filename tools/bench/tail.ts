import { Client } from 'pg';
import { percentile } from './stats';

/**
 * The `tail` scenario's evidence (issue 20: p99 250 → verdict at half load): each copy's timeline, what PostgreSQL's
 * sessions were doing while the slowest 1 % waited, and the journal ingest's GC pauses.
 */

/** One journal copy: when its store began (`message.received_at`, the insert's transaction), its 250, its verdict statement (`verdict.created_at`). Epoch ms, one clock. */
export interface CopyTimeline {
  storedAt: number;
  acceptedAt: number;
  verdictAt: number;
}

/** One non-idle session of the bench database (or a server process without one: checkpointer, autovacuum launcher). */
export interface ActivitySample {
  at: number;
  /** `flush`, `autovacuum`, `checkpointer`, `store`, `verdict`, `other`… with its wait: `verdict:CPU`, `store:LWLock/WALWrite`. */
  labels: string[];
}

const SAMPLE_QUERY = `
  SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS "at", backend_type, wait_event_type, wait_event, left(query, 200) AS query, state
  FROM pg_stat_activity
  WHERE pid <> pg_backend_pid() AND (datname = current_database() OR backend_type IN ('checkpointer', 'autovacuum worker', 'walwriter'))
    AND (state IS NULL OR state NOT IN ('idle'))`;

function label(row: { backend_type: string; wait_event_type: string | null; wait_event: string | null; query: string | null }): string | null {
  const wait = row.wait_event_type ? `${row.wait_event_type}/${row.wait_event}` : 'CPU';
  if (row.backend_type === 'checkpointer') {
    // Idle between checkpoints: it waits on CheckpointerMain.
    return row.wait_event === 'CheckpointerMain' ? null : `checkpointer:${wait}`;
  }
  if (row.backend_type === 'walwriter') {
    return row.wait_event === 'WalWriterMain' ? null : `walwriter:${wait}`;
  }
  if (row.backend_type === 'autovacuum worker') {
    return `autovacuum:${wait}`;
  }
  const query = row.query ?? '';
  const kind = query.includes('mw_flush_search_pending')
    ? 'flush'
    : /INSERT INTO "?verdict"?|"verdict"/i.test(query) && /WITH/i.test(query)
      ? 'verdict'
      : /INSERT INTO "?raw_message"?|"raw_message"/i.test(query)
        ? 'store'
        : /pg_stat_activity|pg_stat_user_tables|message_scan/i.test(query)
          ? null
          : 'other';
  return kind && `${kind}:${wait}`;
}

/** Samples pg_stat_activity of the bench database every `everyMs` on its own connection until stopped. */
export class ActivitySampler {
  private readonly samples: ActivitySample[] = [];
  private running = false;
  private loop?: Promise<void>;

  private constructor(private readonly client: Client) {}

  static async start(databaseUrl: string, everyMs = 20): Promise<ActivitySampler> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    const sampler = new ActivitySampler(client);
    sampler.running = true;
    sampler.loop = (async () => {
      while (sampler.running) {
        const { rows } = await client.query<{ at: number; backend_type: string; wait_event_type: string | null; wait_event: string | null; query: string | null }>(SAMPLE_QUERY);
        const at = rows[0]?.at ?? Date.now();
        sampler.samples.push({ at, labels: rows.map(label).filter((entry): entry is string => entry !== null) });
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
    return sampler;
  }

  async stop(): Promise<ActivitySample[]> {
    this.running = false;
    await this.loop;
    await this.client.end();
    return this.samples;
  }
}

/** The journal ingest's GC pauses from its /metrics (prom-client's default histogram; several processes' texts one after the other add up): how many of each kind took 10 ms or more, 100 ms or more. */
export function gcPauses(metricsText: string | null): Record<string, { total: number; over10ms: number; over100ms: number }> | null {
  if (!metricsText) {
    return null;
  }
  const byKind: Record<string, { total: number; le10ms: number; le100ms: number }> = {};
  for (const line of metricsText.split('\n')) {
    const match = /^mailwarden_nodejs_gc_duration_seconds_(bucket|count)\{([^}]*)\} (\d+(?:\.\d+)?)/.exec(line);
    if (!match) {
      continue;
    }
    const kind = /kind="([a-z_]+)"/.exec(match[2]!)?.[1] ?? '?';
    const entry = (byKind[kind] ??= { total: 0, le10ms: 0, le100ms: 0 });
    const value = Number(match[3]);
    if (match[1] === 'count') {
      entry.total += value;
    } else if (/le="0\.01"/.test(match[2]!)) {
      entry.le10ms += value;
    } else if (/le="0\.1"/.test(match[2]!)) {
      entry.le100ms += value;
    }
  }
  return Object.fromEntries(Object.entries(byKind).map(([kind, entry]) => [kind, { total: entry.total, over10ms: entry.total - entry.le10ms, over100ms: entry.total - entry.le100ms }]));
}

export interface TailFigures {
  copies: number;
  p50: number;
  p99: number;
  /** The slowest 1 %: their 250s as seconds after the first 250 of the run. */
  slowOffsetsSeconds: number[];
  /** 250 → verdict of the run's first 8 copies (by their 250), ms: a cold start shows here. */
  firstCopiesMs: number[];
  /** Medians, ms: store start → 250 (group commit and reply), 250 → verdict statement (in-process scan queue, checks, policy). */
  stages: { all: { storeTo250: number; toVerdict: number }; slow: { storeTo250: number; toVerdict: number } };
  /** Share of the activity samples with each label: during the slow copies' waits, and over the whole load. */
  activity: { slow: Record<string, number>; all: Record<string, number> };
  /** Share of copies whose 250 → verdict overlaps a flush of the search indexes: slow ones, all. */
  overlapsFlush: { slow: number; all: number };
}

/** Where the slowest 1 % of `copies` spent their 250 → verdict, against all copies of the run. */
export function tailFigures(copies: readonly CopyTimeline[], samples: readonly ActivitySample[]): TailFigures {
  const latency = (copy: CopyTimeline) => copy.verdictAt - copy.acceptedAt;
  const values = copies.map(latency);
  const p99 = percentile(values, 99);
  const slow = copies.filter((copy) => latency(copy) >= p99);
  const first = Math.min(...copies.map((copy) => copy.acceptedAt));
  const last = Math.max(...copies.map((copy) => copy.verdictAt));
  const median = (list: number[]) => percentile(list, 50);
  const stages = (list: readonly CopyTimeline[]) => ({ storeTo250: median(list.map((copy) => copy.acceptedAt - copy.storedAt)), toVerdict: median(list.map(latency)) });
  const within = (windows: readonly CopyTimeline[]) => samples.filter((sample) => windows.some((copy) => sample.at >= copy.acceptedAt && sample.at <= copy.verdictAt));
  const shares = (list: readonly ActivitySample[]) => {
    const counts: Record<string, number> = {};
    for (const sample of list) {
      for (const name of new Set(sample.labels)) {
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
    return Object.fromEntries(
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([name, count]) => [name, Math.round((count / Math.max(1, list.length)) * 1000) / 1000]),
    );
  };
  const flushing = samples.filter((sample) => sample.labels.some((name) => name.startsWith('flush:'))).map((sample) => sample.at);
  const overlap = (list: readonly CopyTimeline[]) => list.filter((copy) => flushing.some((at) => at >= copy.acceptedAt && at <= copy.verdictAt)).length / Math.max(1, list.length);
  const during = samples.filter((sample) => sample.at >= first && sample.at <= last);
  return {
    copies: copies.length,
    p50: percentile(values, 50),
    p99,
    slowOffsetsSeconds: slow.map((copy) => Math.round((copy.acceptedAt - first) / 100) / 10).sort((a, b) => a - b),
    firstCopiesMs: [...copies].sort((a, b) => a.acceptedAt - b.acceptedAt).slice(0, 8).map((copy) => Math.round(latency(copy))),
    stages: { all: stages(copies), slow: stages(slow) },
    activity: { slow: shares(within(slow)), all: shares(during) },
    overlapsFlush: { slow: overlap(slow), all: overlap(copies) },
  };
}
