import { Registry } from 'prom-client';
import type { PollRunCounts } from '@mailwarden/db';
import { counter, metricsIn } from '@mailwarden/observability';

const MIMECAST_METRICS = {
  polls: counter('mailwarden_mimecast_polls_total', 'Mimecast TTP log polls by status (succeeded, failed, skipped)', ['status']),
  records: counter('mailwarden_mimecast_alerts_total', 'Mimecast TTP log records read, by result: stored (a new alert), duplicate, clean (no threat), malformed', ['result']),
};

/** Mimecast TTP polling: polls by status, and the log records they read by what became of them. */
export class MimecastMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, MIMECAST_METRICS);
  }

  pollFinished(status: string, counts: PollRunCounts): void {
    this.metrics.polls.inc({ status: status.toLowerCase() });
    for (const result of ['stored', 'duplicates', 'clean', 'malformed'] as const) {
      if (counts[result] > 0) {
        this.metrics.records.inc({ result: result === 'duplicates' ? 'duplicate' : result }, counts[result]);
      }
    }
  }
}
