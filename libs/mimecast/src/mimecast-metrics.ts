import { Registry } from 'prom-client';
import type { PollRunCounts } from '@mailwarden/db';
import { counterIn } from '@mailwarden/observability';

/** Mimecast TTP polling: polls by status, and the log records they read by what became of them. */
export class MimecastMetrics {
  private readonly polls;
  private readonly records;

  constructor(registry: Registry = new Registry()) {
    this.polls = counterIn(registry, { name: 'mailwarden_mimecast_polls_total', help: 'Mimecast TTP log polls by status (succeeded, failed, skipped)', labelNames: ['status'] as const });
    this.records = counterIn(registry, {
      name: 'mailwarden_mimecast_alerts_total',
      help: 'Mimecast TTP log records read, by result: stored (a new alert), duplicate, clean (no threat), malformed',
      labelNames: ['result'] as const,
    });
  }

  pollFinished(status: string, counts: PollRunCounts): void {
    this.polls.inc({ status: status.toLowerCase() });
    for (const result of ['stored', 'duplicates', 'clean', 'malformed'] as const) {
      if (counts[result] > 0) {
        this.records.inc({ result: result === 'duplicates' ? 'duplicate' : result }, counts[result]);
      }
    }
  }
}
