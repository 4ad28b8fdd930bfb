import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { QueueName, type DeliveryJobData } from '@mailwarden/queue';
import { DELIVERY_STATUS_JOB, type DeliveryStatusJobData } from './delivery-status.job';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryInputError, DeliveryService, type DeliveryRun } from './delivery.service';
import { DeliveryStatusService } from './delivery-status.service';

/**
 * Runs delivery jobs (the SMTP front's `deliver`, the admin API's quarantine release) and DSN jobs. A temporary
 * downstream failure does not use up the job's attempts: the job is moved back to delayed with exponential
 * back-off until the retry window ends (the copy is DEFERRED meanwhile). Attempts are for the job's own
 * failures (database or Redis down).
 */
@Processor(QueueName.Delivery)
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    private readonly delivery: DeliveryService,
    private readonly status: DeliveryStatusService,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.tuning.concurrency;
  }

  async process(job: Job<DeliveryJobData | DeliveryStatusJobData>, token?: string): Promise<DeliveryRun | string> {
    try {
      if (job.name === DELIVERY_STATUS_JOB) {
        return await this.status.send(job.data as DeliveryStatusJobData);
      }
      const run = await this.delivery.deliver(job.data as DeliveryJobData);
      if (run.deferred.length > 0) {
        this.logger.log({ event: 'delivery.deferred', messageId: job.data.messageId, recipients: run.deferred, retryInMs: run.retryInMs });
        await job.moveToDelayed(Date.now() + run.retryInMs, token);
        throw new DelayedError();
      }
      return run;
    } catch (error) {
      if (error instanceof DelayedError) {
        throw error;
      }
      if (error instanceof DeliveryInputError) {
        throw new UnrecoverableError(error.message);
      }
      this.logger.warn({ event: 'delivery.retry', jobId: job.id, attempt: job.attemptsMade + 1, error: (error as Error).message });
      throw error;
    }
  }
}
