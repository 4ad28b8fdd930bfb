import { Logger } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { MAILFLOW_TAMPER_CHECK_JOB, mailflowTamperCheckSchedulerId, QueueName, type MailflowTamperCheckJobData } from '@mailwarden/queue';
import type { ModeMigrationQueueOptions } from '../mode-migration.queue';
import type { MailflowTamperService } from './mailflow-tamper.service';

const JOB_OPTIONS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 }, attempts: 1 };
/** The one scheduler that keeps every watched account's own scheduler in place (accounts gain and lose objects). */
const RECONCILE_SCHEDULER = 'mailflow-tamper-check:reconcile';
const RECONCILE_JOB = 'mailflow-tamper-reconcile';

/** Producer side of QueueName.MailflowTamperCheck: a check now, and each watched account's repeatable check. */
export class MailflowTamperQueue {
  readonly queue: Queue<MailflowTamperCheckJobData | Record<string, never>>;

  constructor(options: ModeMigrationQueueOptions) {
    this.queue = new Queue(QueueName.MailflowTamperCheck, { connection: options.connection, prefix: options.prefix });
  }

  async checkNow(accountId: string): Promise<void> {
    await this.queue.add(MAILFLOW_TAMPER_CHECK_JOB, { accountId }, JOB_OPTIONS);
  }

  async schedule(accountId: string, everyMinutes: number): Promise<void> {
    await this.queue.upsertJobScheduler(mailflowTamperCheckSchedulerId(accountId), { every: everyMinutes * 60_000 }, { name: MAILFLOW_TAMPER_CHECK_JOB, data: { accountId }, opts: JOB_OPTIONS });
  }

  async unschedule(accountId: string): Promise<void> {
    await this.queue.removeJobScheduler(mailflowTamperCheckSchedulerId(accountId));
  }

  /** Account ids that have a repeatable check. */
  async scheduledAccounts(): Promise<string[]> {
    const schedulers = await this.queue.getJobSchedulers();
    return schedulers.map((scheduler) => scheduler.key).filter((key) => key !== RECONCILE_SCHEDULER).map((key) => key.slice(key.indexOf(':') + 1));
  }

  async scheduleReconcile(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(RECONCILE_SCHEDULER, { every: everyMs }, { name: RECONCILE_JOB, data: {}, opts: JOB_OPTIONS });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface MailflowTamperWorkerOptions extends ModeMigrationQueueOptions {
  /** Minutes between an account's checks (default 15). */
  everyMinutes?: number;
  /** How often accounts that gained or lost Exchange objects get their check scheduled or dropped (default 60 s). */
  reconcileEveryMs?: number;
}

/**
 * Runs the tamper checks. At start, and then every `reconcileEveryMs`, it gives every account with
 * Mailwarden-created Exchange objects its repeatable check and drops the checks of accounts that have none left.
 */
export class MailflowTamperWorker {
  private readonly logger = new Logger(MailflowTamperWorker.name);
  private worker?: Worker;

  constructor(
    private readonly tamper: MailflowTamperService,
    private readonly queue: MailflowTamperQueue,
    private readonly options: MailflowTamperWorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.worker = new Worker(QueueName.MailflowTamperCheck, (job: Job) => this.process(job), { connection: this.options.connection, prefix: this.options.prefix, concurrency: 2 });
    this.worker.on('error', (error) => this.logger.warn({ event: 'mode_migration.tamper_worker_error', error: error.message }));
    const watched = await this.reconcile();
    await this.queue.scheduleReconcile(this.options.reconcileEveryMs ?? 60_000);
    this.logger.log({ event: 'mode_migration.tamper_worker_started', watchedAccounts: watched });
  }

  private async process(job: Job): Promise<string> {
    if (job.name === RECONCILE_JOB) {
      return `watching ${await this.reconcile()}`;
    }
    return (await this.tamper.check((job.data as MailflowTamperCheckJobData).accountId)).status;
  }

  private async reconcile(): Promise<number> {
    const watched = new Set(await this.tamper.accountsToWatch());
    for (const accountId of watched) {
      await this.queue.schedule(accountId, this.options.everyMinutes ?? 15);
    }
    for (const accountId of await this.queue.scheduledAccounts()) {
      if (!watched.has(accountId)) {
        await this.queue.unschedule(accountId);
      }
    }
    return watched.size;
  }

  async stop(): Promise<void> {
    await this.worker?.close(true);
  }
}
