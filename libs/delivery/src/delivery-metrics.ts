import { Registry } from 'prom-client';
import { counterIn } from '@mailwarden/observability';

/** What happened to one recipient's copy in a delivery run. */
export type DeliveryRecipientOutcome = 'delivered' | 'deferred' | 'failed' | 'expired' | 'no_route';

/**
 * Delivery figures of the scanner's worker role: SMTP transactions to downstreams (one per copy, by whether the
 * downstream took every, some or none of its recipients) and the outcome per recipient.
 */
export class DeliveryMetrics {
  private readonly attempts;
  private readonly recipients;

  constructor(registry: Registry = new Registry()) {
    this.attempts = counterIn(registry, {
      name: 'mailwarden_delivery_attempts_total',
      help: 'SMTP transactions to downstream servers, by result (accepted: every recipient; partial; refused: none)',
      labelNames: ['result'] as const,
    });
    this.recipients = counterIn(registry, {
      name: 'mailwarden_delivery_recipients_total',
      help: 'Recipient copies by delivery outcome (deferred: retried later; failed: for good, a DSN follows; expired: retry window over)',
      labelNames: ['outcome'] as const,
    });
  }

  attempt(accepted: number, failed: number): void {
    this.attempts.inc({ result: failed === 0 ? 'accepted' : accepted === 0 ? 'refused' : 'partial' });
  }

  outcome(outcome: DeliveryRecipientOutcome, recipients = 1): void {
    if (recipients > 0) {
      this.recipients.inc({ outcome }, recipients);
    }
  }
}
