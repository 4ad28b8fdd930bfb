import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { DeliveryJob, DeliveryStatusJob, handle, JobWorkers, QueueName, type DeliveryJobData } from '@mailwarden/queue';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryInputError, DeliveryService, type DeliveryRun } from './delivery.service';
import { DeliveryStatusService } from './delivery-status.service';

/**
 * Runs delivery jobs (the SMTP front's `deliver`, the admin API's quarantine release) and DSN jobs. A temporary
 * downstream failure does not use up the job's attempts: the job is moved back to delayed with exponential
 * back-off until the retry window ends (the copy is DEFERRED meanwhile). Attempts are for the job's own
 * failures (database or Redis down).
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    private readonly delivery: DeliveryService,
    private readonly status: DeliveryStatusService,
    private readonly workers: JobWorkers,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
  ) {}

  onApplicationBootstrap(): void {
    this.workers.start(
      QueueName.Delivery,
      [handle(DeliveryJob, (job, token) => this.guard(job, () => this.deliver(job, token))), handle(DeliveryStatusJob, (job) => this.guard(job, () => this.status.send(job.data)))],
      { concurrency: this.tuning.concurrency },
    );
  }

  private async deliver(job: Job<DeliveryJobData>, token?: string): Promise<DeliveryRun> {
    const run = await this.delivery.deliver(job.data);
    if (run.deferred.length > 0) {
      this.logger.log({ event: 'delivery.deferred', messageId: job.data.messageId, recipients: run.deferred, retryInMs: run.retryInMs });
      await job.moveToDelayed(Date.now() + run.retryInMs, token);
      throw new DelayedError();
    }
    return run;
  }

  /** A bad job fails for good; the job's own errors (database or Redis down) use up its attempts. */
  private async guard<R>(job: Job, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
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
