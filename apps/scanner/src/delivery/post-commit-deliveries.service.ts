import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DeliveryJob, InlineRuns, JobQueues, QueueName, type DeliveryJobData, type InlineHandoffReason } from '@mailwarden/queue';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryService, type StoredDelivery } from './delivery.service';

/**
 * What happens to a gateway message after its commit and 250 when this process also runs the delivery role
 * (SCANNER_ROLE=all, issue 20): delivered here, in process (GATEWAY_INLINE_DELIVERY, libs/queue `InlineRuns`), with the
 * message and its bytes in hand; or put on the delivery queue, as a front without the delivery role does, when
 * in-process delivery is off or full, its attempt failed with its own error (PostgreSQL down: the job's attempts and
 * back-off take it), or the process is closing. A copy the downstream deferred (4xx) goes to the queue as a delayed
 * job, on the same back-off schedule as a job's own deferral. The delivery sweeper queues whatever neither finished
 * (a crash): the copy is QUEUED in the same commit as the message. A copy is claimed before it is relayed, by the
 * statement that stores it when in-process delivery is on ({@link storeClaimLeaseMs}; DeliveryRepository.claimCopies
 * otherwise), so a job or a sweep that meets an in-process delivery never sends it twice. The claim is renewed while
 * the message waits here and while its run relays it (DeliveryClaims), so its lease is short (2 minutes). A message
 * handed to the queue without an in-process run has its claims ended first, so the job can take its copies; a crash
 * leaves them to the sweeper once the lease has passed.
 */
@Injectable()
export class PostCommitDeliveries {
  private readonly logger = new Logger(PostCommitDeliveries.name);
  private readonly inline: InlineRuns<StoredDelivery>;
  private readonly claimLeaseMs: number | null;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly queues: JobQueues,
    @Inject(APP_CONFIG) config: ScannerConfig,
    @Inject(DELIVERY_TUNING) tuning: DeliveryTuning,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.inline = new InlineRuns<StoredDelivery>(
      {
        kind: 'delivery',
        run: (stored) => this.deliverNow(stored),
        bytesOf: (stored) => stored.raw.byteLength,
        idOf: (stored) => stored.message.id,
        handoff: (stored, reason) => this.handOff(stored, reason),
        metrics: { handoffs: 'mailwarden_inline_delivery_handoffs_total', backlog: 'mailwarden_inline_delivery_backlog', running: 'mailwarden_inline_deliveries_running' },
      },
      {
        enabled: config.GATEWAY_INLINE_DELIVERY,
        concurrency: config.GATEWAY_INLINE_DELIVERY_CONCURRENCY,
        maxWaiting: config.GATEWAY_INLINE_DELIVERY_BACKLOG,
        maxBytes: config.GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES,
        maxWaitMs: tuning.inlineMaxWaitMs,
      },
      registry,
    );
    this.claimLeaseMs = config.GATEWAY_INLINE_DELIVERY ? tuning.claimLeaseMs : null;
  }

  /**
   * The lease the gateway's store statement claims its QUEUED copies for (`ProcessedWrite.claimLeaseMs`): the lease of
   * a run's own claim when in-process delivery is on (nearly every stored message is then delivered here), null when
   * off (the job claims them).
   */
  get storeClaimLeaseMs(): number | null {
    return this.claimLeaseMs;
  }

  /** The in-process deliveries' load (tests and the shutdown log). */
  get load(): InlineRuns<StoredDelivery>['load'] {
    return this.inline.load;
  }

  /** A message this process has just committed and answered 250 for: delivered here when it can be, else queued. Never waits. */
  deliver(stored: StoredDelivery): void {
    // The store's claim is renewed from now on, while the message waits for its run and while the run relays it.
    this.inline.submit({ ...stored, claim: stored.claim ?? this.delivery.storeClaim(stored) });
  }

  /**
   * A delivery job (job id: the message id, so a queued or running one is not added twice). While Redis is down
   * this waits, never the SMTP reply; the sweeper enqueues whatever this does not.
   */
  enqueue(job: DeliveryJobData): Promise<void> {
    return this.queues.add(DeliveryJob, job).then(
      () => undefined,
      (error: Error) => this.logger.warn({ event: 'gateway.enqueue_failed', messageId: job.messageId, error: error.message }),
    );
  }

  /**
   * To the queue instead of (or after) an in-process run. Copies the store claimed for a run that never started are
   * released first, or the job would find them claimed and leave them to the sweeper after the lease; after a run
   * (`retry`) the run itself released what it did not send, and a copy it sent but could not record keeps its claim.
   */
  private async handOff(stored: StoredDelivery, reason: InlineHandoffReason): Promise<void> {
    if (stored.claim && reason !== 'retry') {
      await this.delivery
        .releaseClaim(stored.claim)
        .catch((error: Error) => this.logger.warn({ event: 'delivery.claim_release_failed', messageId: stored.message.id, error: error.message }));
    }
    await this.enqueue({ messageId: stored.message.id, recipients: stored.recipients });
  }

  /** Graceful shutdown, once the SMTP front no longer takes messages: see InlineRuns.close. */
  async drain(): Promise<void> {
    await this.inline.close();
  }

  private async deliverNow(stored: StoredDelivery): Promise<void> {
    const run = await this.delivery.deliverStored(stored);
    if (run.deferred.length === 0) {
      return;
    }
    // The job's own deferral (DeliveryProcessor) moves the job to delayed by the same retryInMs: one schedule.
    this.logger.log({ event: 'delivery.deferred', messageId: stored.message.id, recipients: run.deferred, retryInMs: run.retryInMs });
    await this.queues
      .get(QueueName.Delivery)
      .addLater(DeliveryJob, { messageId: stored.message.id, recipients: run.deferred }, run.retryInMs)
      .catch((error: Error) => this.logger.warn({ event: 'gateway.enqueue_failed', messageId: stored.message.id, error: error.message }));
  }
}
