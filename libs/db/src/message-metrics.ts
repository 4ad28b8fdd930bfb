import { Registry } from 'prom-client';
import { boundedLabel, counterIn } from '@mailwarden/observability';

const SOURCES: ReadonlySet<string> = new Set(['JOURNAL', 'GATEWAY', 'MAILFLOW']);

/**
 * `mailwarden_messages_stored_total{source, outcome}`: messages committed (outcome `stored`) or recognised as a copy
 * already stored (`duplicate`), counted by the two intakes after their commit (the journal ingest, the gateway front).
 */
export class MessageMetrics {
  private readonly stored;

  constructor(registry: Registry = new Registry()) {
    this.stored = counterIn(registry, {
      name: 'mailwarden_messages_stored_total',
      help: 'Messages committed to PostgreSQL (stored), or recognised as a copy already stored (duplicate)',
      labelNames: ['source', 'outcome'] as const,
    });
  }

  committed(source: string, duplicate = false): void {
    this.stored.inc({ source: boundedLabel(source, SOURCES), outcome: duplicate ? 'duplicate' : 'stored' });
  }
}
