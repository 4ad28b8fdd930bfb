import { Registry } from 'prom-client';
import { boundedLabel, counterIn, histogramIn } from '@mailwarden/observability';

const SOURCES: ReadonlySet<string> = new Set(['JOURNAL', 'GATEWAY', 'MAILFLOW']);

/**
 * `mailwarden_messages_stored_total{source, outcome}`: messages committed (outcome `stored`) or recognised as a copy
 * already stored (`duplicate`), counted by the two intakes after their commit (the journal ingest, the gateway front).
 * `mailwarden_message_commit_batch_size{source}`: copies per transaction of the group commit (`IncomingCommitter`):
 * its count is the number of commits, its sum the copies they carried.
 */
export class MessageMetrics {
  private readonly stored;
  private readonly batchSize;

  constructor(registry: Registry = new Registry()) {
    this.stored = counterIn(registry, {
      name: 'mailwarden_messages_stored_total',
      help: 'Messages committed to PostgreSQL (stored), or recognised as a copy already stored (duplicate)',
      labelNames: ['source', 'outcome'] as const,
    });
    this.batchSize = histogramIn(registry, {
      name: 'mailwarden_message_commit_batch_size',
      help: 'Received copies committed per transaction by the group commit',
      labelNames: ['source'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    });
  }

  /** One group commit of `size` copies. */
  batchCommitted(source: string, size: number): void {
    this.batchSize.observe({ source: boundedLabel(source, SOURCES) }, size);
  }

  committed(source: string, duplicate = false): void {
    this.stored.inc({ source: boundedLabel(source, SOURCES), outcome: duplicate ? 'duplicate' : 'stored' });
  }
}
