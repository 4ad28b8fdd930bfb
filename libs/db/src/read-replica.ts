import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { collectOnScrape, gauge, metricsIn, METRICS_REGISTRY } from '@mailwarden/observability';
import { Prisma, type PrismaClient } from './generated/prisma/client';
import { DB_OPTIONS } from './db.constants';
import { hasReadReplica, PrismaReadService, PrismaService } from './prisma.service';
import { sqlQuery, type DbOptions } from './sql';

/** DATABASE_READ_MAX_LAG_SECONDS's default: a replica further behind than this is not read. */
export const DEFAULT_READ_MAX_LAG_SECONDS = 30;
/** A measure of the lag serves the reads of this long; an older one is refreshed in the background. */
export const REPLICA_LAG_CHECK_MS = 1000;

export interface ReplicaLag {
  /**
   * How far behind the replica's replay is, in seconds: 0 when it has replayed everything the primary has flushed
   * (or the read database is no standby, e.g. a second URL of the primary); otherwise the time since the last
   * transaction it replayed. Infinity: behind, and nothing replayed since the standby started.
   */
  seconds: number;
  /** WAL the replica has not replayed yet (primary's flushed LSN minus the replica's replayed LSN). */
  bytes: number;
  /** Whether the reads that may lag go to the replica: it answered and lags at most the configured bound. */
  useReplica: boolean;
  /** Why the lag could not be measured (the reads go to the primary meanwhile); null when it was. */
  error: string | null;
}

const REPLICA_LAG_METRICS = {
  lagSeconds: gauge('mailwarden_db_replica_lag_seconds', "Seconds the read replica (DATABASE_READ_URL) is behind the primary's flushed WAL (0: caught up; +Inf: behind, nothing replayed yet)"),
  lagBytes: gauge('mailwarden_db_replica_lag_bytes', 'WAL bytes the read replica has not replayed yet'),
  fallback: gauge(
    'mailwarden_db_replica_fallback',
    '1: history search and statistics read the primary, the replica lagging more than DATABASE_READ_MAX_LAG_SECONDS or not answering; 0: they read the replica',
  ),
};

/** The replica gauges (definitions only; {@link ReadReplicaRouter} fills them at scrape time). */
export function replicaLagGauges(registry: Registry) {
  return metricsIn(registry, REPLICA_LAG_METRICS);
}

/**
 * Chooses the database of the reads that may lag (history search, statistics; issue 20): the read replica
 * (DATABASE_READ_URL) while it is at most `readMaxLagSeconds` behind the primary and answers, the primary otherwise.
 * The lag is measured at most every {@link REPLICA_LAG_CHECK_MS} (two small statements: the primary's flushed LSN,
 * then the replica's replayed LSN and last replayed transaction time), in the background once a first measure exists,
 * and at every Prometheus scrape (`mailwarden_db_replica_*`). Without a separate read database it always answers the
 * primary and measures nothing.
 */
@Injectable()
export class ReadReplicaRouter {
  private readonly replica: PrismaClient | null;
  private readonly maxLagSeconds: number;
  private readonly gauges: ReturnType<typeof replicaLagGauges> | null = null;
  private last: { at: number; lag: ReplicaLag } | null = null;
  private inFlight: Promise<ReplicaLag> | null = null;

  constructor(
    private readonly primary: PrismaService,
    @Inject(DB_OPTIONS) options: DbOptions,
    @Optional() read?: PrismaReadService,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.replica = hasReadReplica(options) && read && (read as PrismaClient) !== primary ? read : null;
    this.maxLagSeconds = options.readMaxLagSeconds ?? DEFAULT_READ_MAX_LAG_SECONDS;
    if (this.replica && registry) {
      this.gauges = replicaLagGauges(registry);
      collectOnScrape(Object.values(this.gauges), async () => void (await this.measure()));
    }
  }

  /** The client for a read that may lag: the replica, or the primary when there is none or it lags too far. */
  async reader(): Promise<PrismaClient> {
    if (!this.replica) {
      return this.primary;
    }
    let last = this.last;
    if (!last) {
      await this.measure();
      last = this.last!;
    } else if (Date.now() - last.at >= REPLICA_LAG_CHECK_MS) {
      void this.measure();
    }
    return last.lag.useReplica ? this.replica : this.primary;
  }

  /** Measures the lag now (one measure at a time: concurrent callers share it) and keeps it for {@link reader}. */
  measure(): Promise<ReplicaLag> {
    if (!this.replica) {
      return Promise.resolve({ seconds: 0, bytes: 0, useReplica: false, error: null });
    }
    this.inFlight ??= this.sample(this.replica)
      .then((lag) => {
        this.last = { at: Date.now(), lag };
        this.gauges?.lagSeconds.set(lag.seconds);
        this.gauges?.lagBytes.set(lag.bytes);
        this.gauges?.fallback.set(lag.useReplica ? 0 : 1);
        return lag;
      })
      .finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async sample(replica: PrismaClient): Promise<ReplicaLag> {
    try {
      // The primary first: what the replica has replayed is compared with what the primary had flushed before.
      const [primary] = await sqlQuery<{ lsn: string }>(this.primary, Prisma.sql`SELECT pg_current_wal_flush_lsn()::text AS "lsn"`);
      const [row] = await sqlQuery<{ standby: boolean; caughtUp: boolean | null; bytes: number | null; sinceReplay: number | null }>(
        replica,
        Prisma.sql`
          SELECT pg_is_in_recovery() AS "standby",
            pg_last_wal_replay_lsn() >= ${primary!.lsn}::pg_lsn AS "caughtUp",
            greatest(pg_wal_lsn_diff(${primary!.lsn}::pg_lsn, pg_last_wal_replay_lsn()), 0)::float8 AS "bytes",
            extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS "sinceReplay"`,
      );
      const behind = row!.standby && row!.caughtUp !== true;
      const seconds = behind ? Math.max(0, row!.sinceReplay ?? Number.POSITIVE_INFINITY) : 0;
      return { seconds, bytes: behind ? (row!.bytes ?? 0) : 0, useReplica: seconds <= this.maxLagSeconds, error: null };
    } catch (error) {
      return { seconds: this.last?.lag.seconds ?? 0, bytes: this.last?.lag.bytes ?? 0, useReplica: false, error: (error as Error).message };
    }
  }
}
