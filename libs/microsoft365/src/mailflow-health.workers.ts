import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import {
  MAILFLOW_QUICK_TEST_JOB,
  MAILFLOW_TAMPER_CHECK_JOB,
  mailflowTamperCheckSchedulerId,
  QueueName,
  type MailflowQuickTestJobData,
  type MailflowTamperCheckJobData,
} from '@mailwarden/queue';
import type { MailflowQuickTestService } from './mailflow-quick-test.service';
import type { MailflowTamperService } from './mailflow-tamper.service';
import type { Microsoft365QueueOptions } from './microsoft365.options';

type MailflowJobData = MailflowQuickTestJobData | MailflowTamperCheckJobData;
const JOB_OPTIONS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

/** Producer side of `QueueName.M365Mailflow`: quick tests and each account's scheduled tamper check. */
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

  async scheduleTamperCheck(accountId: string, everyMinutes: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      mailflowTamperCheckSchedulerId(accountId),
      { every: everyMinutes * 60_000 },
      { name: MAILFLOW_TAMPER_CHECK_JOB, data: { accountId }, opts: { ...JOB_OPTIONS, attempts: 1 } },
    );
  }

  async unscheduleTamperCheck(accountId: string): Promise<void> {
    await this.queue.removeJobScheduler(mailflowTamperCheckSchedulerId(accountId));
  }

  /** Runs an account's tamper check now (besides the schedule). */
  async enqueueTamperCheck(accountId: string): Promise<void> {
    await this.queue.add(MAILFLOW_TAMPER_CHECK_JOB, { accountId }, { ...JOB_OPTIONS, attempts: 1 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}

export interface MailflowHealthWorkerOptions extends Microsoft365QueueOptions {
  /** Minutes between an account's tamper checks (default 15). */
  tamperCheckMinutes?: number;
  concurrency?: number;
}

/**
 * The scanner's worker for `QueueName.M365Mailflow`. On start it (re)schedules the tamper check of every account
 * that has mailflow objects created by Mailwarden.
 */
export class MailflowHealthWorkers {
  private readonly logger = new Logger(MailflowHealthWorkers.name);
  private readonly abort = new AbortController();
  private worker?: Worker<MailflowJobData>;

  constructor(
    private readonly quickTests: MailflowQuickTestService,
    /** Null until an app wires the source of Mailwarden's created objects. */
    private readonly tamper: MailflowTamperService | null,
    private readonly queues: MailflowHealthQueues,
    private readonly options: MailflowHealthWorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.worker = new Worker<MailflowJobData>(QueueName.M365Mailflow, (job) => this.process(job), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? 4,
    });
    this.worker.on('error', (error) => this.logger.warn({ event: 'microsoft365.mailflow_worker_error', error: error.message }));
    const accounts = (await this.tamper?.accountsToWatch()) ?? [];
    for (const accountId of accounts) {
      await this.queues.scheduleTamperCheck(accountId, this.options.tamperCheckMinutes ?? 15);
    }
    this.logger.log({ event: 'microsoft365.mailflow_worker_started', watchedAccounts: accounts.length });
  }

  private async process(job: Job<MailflowJobData>): Promise<string> {
    if (job.name === MAILFLOW_QUICK_TEST_JOB) {
      const test = await this.quickTests.run((job.data as MailflowQuickTestJobData).testId, this.abort.signal);
      return test.status;
    }
    if (job.name === MAILFLOW_TAMPER_CHECK_JOB && this.tamper) {
      const outcome = await this.tamper.check((job.data as MailflowTamperCheckJobData).accountId);
      return outcome.status;
    }
    throw new Error(`unknown job ${job.name}`);
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('worker stopped'));
    await this.worker?.close(true);
  }
}
