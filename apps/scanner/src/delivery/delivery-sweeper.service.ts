import { Inject, Injectable } from '@nestjs/common';
import { DeliveryRepository } from '@mailwarden/db';
import { DeliveryJob, JobQueues, QueueName, releaseDeliveryJobId, type JobQueue } from '@mailwarden/queue';
import { RepeatingService, type Repetition } from '../common/repeating.service';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';

/**
 * The delivery outbox's relay: a copy still QUEUED or DEFERRED with no job waiting for it (the front's enqueue was
 * lost, or the job failed on its own errors) is enqueued again. Copies already DELIVERED are skipped by the job,
 * so this never delivers twice.
 */
@Injectable()
export class DeliverySweeperService extends RepeatingService {
  private readonly queue: JobQueue;

  constructor(
    private readonly deliveries: DeliveryRepository,
    queues: JobQueues,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
  ) {
    super();
    this.queue = queues.get(QueueName.Delivery);
  }

  protected repetition(): Repetition {
    return { everyMs: this.tuning.sweepEveryMs, failedEvent: 'delivery.sweep_failed' };
  }

  protected repeat(): Promise<number> {
    return this.sweep();
  }

  async sweep(graceMs = this.tuning.sweepGraceMs): Promise<number> {
    const stalled = await this.deliveries.findStalled(new Date(Date.now() - graceMs));
    let enqueued = 0;
    for (const messageId of stalled) {
      const jobIds = [messageId, ...(await this.deliveries.findQuarantineItemIds(messageId)).map(releaseDeliveryJobId)];
      let waiting = false;
      for (const jobId of jobIds) {
        const job = await this.queue.queue.getJob(jobId);
        if (!job) {
          continue;
        }
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') {
          if (jobId === messageId) {
            await job.remove();
          }
        } else {
          waiting = true;
        }
      }
      if (waiting) {
        continue;
      }
      const message = await this.deliveries.findForDelivery(messageId);
      const recipients = (message?.deliveries ?? []).filter((copy) => copy.state === 'QUEUED' || copy.state === 'DEFERRED').map((copy) => copy.recipient);
      if (recipients.length === 0) {
        continue;
      }
      await this.queue.add(DeliveryJob, { messageId, recipients });
      enqueued++;
    }
    if (enqueued > 0) {
      this.logger.log({ event: 'delivery.swept', enqueued });
    }
    return enqueued;
  }
}
