import { Registry } from 'prom-client';
import { boundedLabel, counter, histogram, metricsIn } from '@mailwarden/observability';

/** The `source` label of the message path's metrics: a message's source, anything else `other`. */
export const MESSAGE_SOURCE_LABELS: ReadonlySet<string> = new Set(['JOURNAL', 'GATEWAY', 'MAILFLOW']);

const MESSAGE_METRICS = {
  stored: counter('mailwarden_messages_stored_total', 'Messages committed to PostgreSQL (stored), or recognised as a copy already stored (duplicate)', ['source', 'outcome']),
  batchSize: histogram('mailwarden_message_commit_batch_size', 'Received copies committed per transaction by the group commit', ['source'], [1, 2, 4, 8, 16, 32, 64, 128, 256]),
  scanBatchSize: histogram('mailwarden_scan_commit_batch_size', 'Scans whose verdicts (write=verdicts) or attempt counts (write=attempts) were committed per transaction by the group commit', ['write'], [1, 2, 4, 8, 16, 32, 64, 128, 256]),
};

/**
 * `mailwarden_messages_stored_total{source, outcome}`: messages committed (outcome `stored`) or recognised as a copy
 * already stored (`duplicate`), counted by the two intakes after their commit (the journal ingest, the gateway front).
 * `mailwarden_message_commit_batch_size{source}`: copies per transaction of the group commit (`IncomingCommitter`):
 * its count is the number of commits, its sum the copies they carried.
 * `mailwarden_scan_commit_batch_size{write}`: the same for the scan side (`VerdictCommitter`): scans per verdict
 * statement (`verdicts`) and per attempt-count statement (`attempts`).
 */
export class MessageMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, MESSAGE_METRICS);
  }

  /** One group commit of `size` copies. */
  batchCommitted(source: string, size: number): void {
    this.metrics.batchSize.observe({ source: boundedLabel(source, MESSAGE_SOURCE_LABELS) }, size);
  }

  /** One group commit of the scan side: `size` scans' verdicts or attempt counts. */
  scanBatchCommitted(write: 'verdicts' | 'attempts', size: number): void {
    this.metrics.scanBatchSize.observe({ write }, size);
  }

  committed(source: string, duplicate = false): void {
    this.metrics.stored.inc({ source: boundedLabel(source, MESSAGE_SOURCE_LABELS), outcome: duplicate ? 'duplicate' : 'stored' });
  }
}
