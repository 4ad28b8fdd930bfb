import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { handle, JobQueue, JobWorkers, MailflowQuickTestJob, QueueName } from '@mailwarden/queue';
import type { MailflowQuickTestService } from './mailflow-quick-test.service';
import type { Microsoft365QueueOptions } from './microsoft365.options';

/** Producer side of `QueueName.M365Mailflow`: the mailflow quick tests. */
export class MailflowHealthQueues implements OnModuleDestroy {
  readonly jobs: JobQueue;

  constructor(options: Microsoft365QueueOptions) {
    this.jobs = new JobQueue(QueueName.M365Mailflow, options);
  }

  get queue() {
    return this.jobs.queue;
  }

  /**
   * A recorded quick test. The row may be committed by the caller's transaction after this returns (a migration
   * step records it inside its own): the job is retried a few times, 1 s apart, until the row is there.
   */
  async enqueueQuickTest(testId: string): Promise<void> {
    await this.jobs.add(MailflowQuickTestJob, { testId });
  }

  async onModuleDestroy(): Promise<void> {
    await this.jobs.close();
  }
}

export interface MailflowHealthWorkerOptions extends Microsoft365QueueOptions {
  concurrency?: number;
  /** The app's JobWorkers (QueueModule); without it (tests) the worker runs on its own. */
  workers?: JobWorkers;
}

/** The scanner's worker for `QueueName.M365Mailflow`: sends and follows the recorded quick tests. */
export class MailflowHealthWorkers {
  private readonly logger = new Logger(MailflowHealthWorkers.name);
  private readonly abort = new AbortController();
  private readonly workers: JobWorkers;

  constructor(
    private readonly quickTests: MailflowQuickTestService,
    private readonly options: MailflowHealthWorkerOptions,
  ) {
    this.workers = options.workers ?? new JobWorkers(options);
  }

  async start(): Promise<void> {
    this.workers.start(QueueName.M365Mailflow, [handle(MailflowQuickTestJob, async (job) => (await this.quickTests.run(job.data.testId, this.abort.signal)).status)], {
      concurrency: this.options.concurrency ?? 4,
      forceClose: true,
    });
    this.logger.log({ event: 'microsoft365.mailflow_worker_started' });
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('worker stopped'));
    await this.workers.stop(QueueName.M365Mailflow);
  }
}
