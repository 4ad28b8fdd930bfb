import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { MAILFLOW_QUICK_TEST_JOB, QueueName, type MailflowQuickTestJobData } from '@mailwarden/queue';
import type { MailflowQuickTestService } from './mailflow-quick-test.service';
import type { Microsoft365QueueOptions } from './microsoft365.options';

type MailflowJobData = MailflowQuickTestJobData;
const JOB_OPTIONS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

/** Producer side of `QueueName.M365Mailflow`: the mailflow quick tests. */
export class MailflowHealthQueues implements OnModuleDestroy {
  readonly queue: Queue<MailflowJobData>;

  constructor(options: Microsoft365QueueOptions) {
    this.queue = new Queue<MailflowJobData>(QueueName.M365Mailflow, { connection: options.connection, prefix: options.prefix });
  }

  /**
   * A recorded quick test. The row may be committed by the caller's transaction after this returns (a migration
   * step records it inside its own): the job is retried a few times, 1 s apart, until the row is there.
   */
  async enqueueQuickTest(testId: string): Promise<void> {
    await this.queue.add(MAILFLOW_QUICK_TEST_JOB, { testId }, { ...JOB_OPTIONS, jobId: `quick-test-${testId}`, attempts: 5, backoff: { type: 'fixed', delay: 1_000 } });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}

export interface MailflowHealthWorkerOptions extends Microsoft365QueueOptions {
  concurrency?: number;
}

/** The scanner's worker for `QueueName.M365Mailflow`: sends and follows the recorded quick tests. */
export class MailflowHealthWorkers {
  private readonly logger = new Logger(MailflowHealthWorkers.name);
  private readonly abort = new AbortController();
  private worker?: Worker<MailflowJobData>;

  constructor(
    private readonly quickTests: MailflowQuickTestService,
    private readonly options: MailflowHealthWorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.worker = new Worker<MailflowJobData>(QueueName.M365Mailflow, (job) => this.process(job), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? 4,
    });
    this.worker.on('error', (error) => this.logger.warn({ event: 'microsoft365.mailflow_worker_error', error: error.message }));
    this.logger.log({ event: 'microsoft365.mailflow_worker_started' });
  }

  private async process(job: Job<MailflowJobData>): Promise<string> {
    if (job.name === MAILFLOW_QUICK_TEST_JOB) {
      const test = await this.quickTests.run(job.data.testId, this.abort.signal);
      return test.status;
    }
    throw new Error(`unknown job ${job.name}`);
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('worker stopped'));
    await this.worker?.close(true);
  }
}
