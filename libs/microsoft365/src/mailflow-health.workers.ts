import { Logger } from '@nestjs/common';
import { handle, JobQueue, JobQueues, JobWorkers, MailflowQuickTestJob, QueueName } from '@mailwarden/queue';
import type { MailflowQuickTestService } from './mailflow-quick-test.service';

/** Producer side of `QueueName.M365Mailflow`: the mailflow quick tests, on the app's JobQueues (QueueModule). */
export class MailflowHealthQueues {
  readonly jobs: JobQueue;

  constructor(queues: JobQueues) {
    this.jobs = queues.get(QueueName.M365Mailflow);
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
}

export interface MailflowHealthWorkerOptions {
  concurrency?: number;
}

/** The scanner's worker for `QueueName.M365Mailflow`: sends and follows the recorded quick tests. */
export class MailflowHealthWorkers {
  private readonly logger = new Logger(MailflowHealthWorkers.name);
  private readonly abort = new AbortController();

  /** `workers`: the app's JobWorkers (QueueModule). */
  constructor(
    private readonly quickTests: MailflowQuickTestService,
    private readonly workers: JobWorkers,
    private readonly options: MailflowHealthWorkerOptions = {},
  ) {}

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
