import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { ExportRepository } from '@mailwarden/db';
import { collectOnScrape, gauge, metricsIn } from '@mailwarden/observability';
import { JobWorkers, QueueName } from '@mailwarden/queue';
import type { ExportRunner } from './export-runner';
import { exportHandlers, type ExportScheduler } from './export-scheduler';

const EXPORT_LABELS = ['destination', 'kind', 'name'] as const;
const EXPORT_GAUGES = {
  lag: gauge('mailwarden_export_lag_events', 'Outbox events not yet passed by the destination', EXPORT_LABELS),
  lagSeconds: gauge('mailwarden_export_lag_seconds', 'Age of the oldest event the destination has not passed', EXPORT_LABELS),
  sent: gauge('mailwarden_export_events_sent', 'Events the destination took (counter kept in PostgreSQL)', EXPORT_LABELS),
  filtered: gauge('mailwarden_export_events_filtered', 'Events the destination filters left out', EXPORT_LABELS),
  lastSuccess: gauge('mailwarden_export_last_success_timestamp_seconds', 'Time of the last batch the destination took', EXPORT_LABELS),
  lastError: gauge('mailwarden_export_last_error_timestamp_seconds', 'Time of the last failed batch', EXPORT_LABELS),
  failures: gauge('mailwarden_export_consecutive_failures', 'Failed batches since the last success', EXPORT_LABELS),
};

/**
 * Per-destination figures on /metrics, read from PostgreSQL at scrape time, so every worker process reports the same
 * numbers whichever of them sent the events.
 */
export function registerExportMetrics(registry: Registry, repository: Pick<ExportRepository, 'listAllDestinations' | 'lag'>): void {
  const gauges = metricsIn(registry, EXPORT_GAUGES);
  // A scrape reads every gauge at once: they share one read of the destinations per scrape; PostgreSQL down: the
  // gauges keep their last values rather than failing the whole scrape.
  collectOnScrape(Object.values(gauges), async () => {
    const now = Date.now();
    const rows = await Promise.all((await repository.listAllDestinations()).map(async (destination) => ({ destination, lag: await repository.lag(destination) })));
    for (const metric of Object.values(gauges)) {
      metric.reset();
    }
    for (const { destination, lag } of rows) {
      const labels = { destination: destination.id, kind: destination.kind, name: destination.name };
      gauges.lag.set(labels, lag.events);
      gauges.lagSeconds.set(labels, lag.oldestAt ? Math.max(0, (now - lag.oldestAt.getTime()) / 1000) : 0);
      gauges.sent.set(labels, Number(destination.eventsSent));
      gauges.filtered.set(labels, Number(destination.eventsFiltered));
      gauges.lastSuccess.set(labels, destination.lastSuccessAt ? destination.lastSuccessAt.getTime() / 1000 : 0);
      gauges.lastError.set(labels, destination.lastErrorAt ? destination.lastErrorAt.getTime() / 1000 : 0);
      gauges.failures.set(labels, destination.consecutiveFailures);
    }
  });
}

/**
 * The export in the scanner's worker role: the BullMQ worker of QueueName.Export, the schedules re-asserted at start
 * (they live in Redis; the destinations and cursors live in PostgreSQL), and the outbox pruning.
 */
export class ExportWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExportWorkerService.name);
  private pruneTimer?: NodeJS.Timeout;

  /** `workers`: the app's JobWorkers (QueueModule). */
  constructor(
    private readonly runner: ExportRunner,
    private readonly scheduler: ExportScheduler,
    private readonly repository: ExportRepository,
    private readonly workers: JobWorkers,
    private readonly queue: { concurrency?: number; pruneEveryMs?: number } = {},
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.workers.start(QueueName.Export, exportHandlers(this.runner), { concurrency: this.queue.concurrency ?? 4, forceClose: true });
    const scheduled = await this.scheduler.sync(await this.repository.listAllDestinations());
    // Schedules live in Redis: a Redis that restarted empty loses them, so they are re-asserted with each pruning.
    this.pruneTimer = setInterval(() => void this.maintain(), this.queue.pruneEveryMs ?? 30_000);
    this.pruneTimer.unref();
    this.logger.log({ event: 'export.worker_started', scheduledDestinations: scheduled });
  }

  /** Re-asserts the schedules and prunes the outbox; failures (Redis or PostgreSQL down) wait for the next round. */
  async maintain(): Promise<void> {
    try {
      await this.scheduler.sync(await this.repository.listAllDestinations());
    } catch (error) {
      this.logger.warn({ event: 'export.schedule_sync_failed', error: (error as Error).message });
    }
    await this.prune();
  }

  async prune(): Promise<number> {
    try {
      const deleted = await this.repository.prune();
      if (deleted > 0) {
        this.logger.log({ event: 'export.outbox_pruned', deleted });
      }
      return deleted;
    } catch (error) {
      this.logger.warn({ event: 'export.prune_failed', error: (error as Error).message });
      return 0;
    }
  }

  /**
   * Stops taking runs and leaves a running batch behind (forced close): its cursor was not moved, so the next run
   * sends that batch again with the same metadata.uid values.
   */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.workers.stop(QueueName.Export);
  }
}
