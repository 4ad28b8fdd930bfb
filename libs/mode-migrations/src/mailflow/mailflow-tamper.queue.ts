import { Logger } from '@nestjs/common';
import {
  handle,
  JobQueue,
  JobQueues,
  JobWorkers,
  MAILFLOW_TAMPER_RECONCILE_SCHEDULER,
  MailflowTamperCheckJob,
  mailflowTamperCheckSchedulerId,
  MailflowTamperReconcileJob,
  QueueName,
} from '@mailwarden/queue';
import type { MailflowTamperService } from './mailflow-tamper.service';

/**
 * Producer side of QueueName.MailflowTamperCheck: a check now, and each watched account's repeatable check. On the
 * app's JobQueues (QueueModule).
 */
export class MailflowTamperQueue {
  readonly jobs: JobQueue;

  constructor(queues: JobQueues) {
    this.jobs = queues.get(QueueName.MailflowTamperCheck);
  }

  get queue() {
    return this.jobs.queue;
  }

  async checkNow(accountId: string): Promise<void> {
    await this.jobs.add(MailflowTamperCheckJob, { accountId });
  }

  async schedule(accountId: string, everyMinutes: number): Promise<void> {
    await this.jobs.schedule(MailflowTamperCheckJob, mailflowTamperCheckSchedulerId(accountId), everyMinutes * 60_000, { accountId });
  }

  async unschedule(accountId: string): Promise<void> {
    await this.jobs.unschedule(mailflowTamperCheckSchedulerId(accountId));
  }

  /** Account ids that have a repeatable check. */
  async scheduledAccounts(): Promise<string[]> {
    return (await this.jobs.schedulerIds()).filter((key) => key !== MAILFLOW_TAMPER_RECONCILE_SCHEDULER).map((key) => key.slice(key.indexOf(':') + 1));
  }

  async scheduleReconcile(everyMs: number): Promise<void> {
    await this.jobs.schedule(MailflowTamperReconcileJob, MAILFLOW_TAMPER_RECONCILE_SCHEDULER, everyMs, {});
  }
}

export interface MailflowTamperWorkerOptions {
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

  /** `workers`: the app's JobWorkers (QueueModule). */
  constructor(
    private readonly tamper: MailflowTamperService,
    private readonly queue: MailflowTamperQueue,
    private readonly workers: JobWorkers,
    private readonly options: MailflowTamperWorkerOptions = {},
  ) {}

  async start(): Promise<void> {
    this.workers.start(
      QueueName.MailflowTamperCheck,
      [handle(MailflowTamperReconcileJob, async () => `watching ${await this.reconcile()}`), handle(MailflowTamperCheckJob, async (job) => (await this.tamper.check(job.data.accountId)).status)],
      { concurrency: 2, forceClose: true },
    );
    const watched = await this.reconcile();
    await this.queue.scheduleReconcile(this.options.reconcileEveryMs ?? 60_000);
    this.logger.log({ event: 'mode_migration.tamper_worker_started', watchedAccounts: watched });
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
    await this.workers.stop(QueueName.MailflowTamperCheck);
  }
}
