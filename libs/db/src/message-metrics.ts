import { Registry } from 'prom-client';
import { boundedLabel, counter, metricsIn } from '@mailwarden/observability';

/** The `source` label of the message path's metrics: a message's source, anything else `other`. */
export const MESSAGE_SOURCE_LABELS: ReadonlySet<string> = new Set(['JOURNAL', 'GATEWAY', 'MAILFLOW']);

const MESSAGE_METRICS = {
  stored: counter('mailwarden_messages_stored_total', 'Messages committed to PostgreSQL (stored), or recognised as a copy already stored (duplicate)', ['source', 'outcome']),
};

/**
 * `mailwarden_messages_stored_total{source, outcome}`: messages committed (outcome `stored`) or recognised as a copy
 * already stored (`duplicate`), counted by the two intakes after their commit (the journal ingest, the gateway front).
 */
export class MessageMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, MESSAGE_METRICS);
  }

  committed(source: string, duplicate = false): void {
    this.metrics.stored.inc({ source: boundedLabel(source, MESSAGE_SOURCE_LABELS), outcome: duplicate ? 'duplicate' : 'stored' });
  }
}
