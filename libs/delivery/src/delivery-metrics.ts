import { Registry } from 'prom-client';
import { counter, metricsIn } from '@mailwarden/observability';

/** What happened to one recipient's copy in a delivery run. */
export type DeliveryRecipientOutcome = 'delivered' | 'deferred' | 'failed' | 'expired' | 'no_route';

const DELIVERY_METRICS = {
  attempts: counter('mailwarden_delivery_attempts_total', 'SMTP transactions to downstream servers, by result (accepted: every recipient; partial; refused: none)', ['result']),
  recipients: counter(
    'mailwarden_delivery_recipients_total',
    'Recipient copies by delivery outcome (deferred: retried later; failed: for good, a DSN follows; expired: retry window over)',
    ['outcome'],
  ),
};

/**
 * Delivery figures of the scanner's worker role: SMTP transactions to downstreams (one per copy, by whether the
 * downstream took every, some or none of its recipients) and the outcome per recipient.
 */
export class DeliveryMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, DELIVERY_METRICS);
  }

  attempt(accepted: number, failed: number): void {
    this.metrics.attempts.inc({ result: failed === 0 ? 'accepted' : accepted === 0 ? 'refused' : 'partial' });
  }

  outcome(outcome: DeliveryRecipientOutcome, recipients = 1): void {
    if (recipients > 0) {
      this.metrics.recipients.inc({ outcome }, recipients);
    }
  }
}
