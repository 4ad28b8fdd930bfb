import { type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  M365_DIRECTORY_SYNC_JOB,
  M365_REMEDIATION_JOB,
  m365DirectorySyncSchedulerId,
  QueueName,
  type M365DirectorySyncJobData,
  type M365RemediationJobData,
} from '@mailwarden/queue';
import type { Microsoft365QueueOptions } from './microsoft365.options';

const JOB_OPTIONS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

/** Producer side of the Microsoft 365 queues: on-demand and scheduled syncs, remediations. */
export class Microsoft365Queues implements OnModuleDestroy {
  readonly sync: Queue<M365DirectorySyncJobData>;
  readonly remediation: Queue<M365RemediationJobData>;

  constructor(options: Microsoft365QueueOptions) {
    this.sync = new Queue<M365DirectorySyncJobData>(QueueName.M365DirectorySync, { connection: options.connection, prefix: options.prefix });
    this.remediation = new Queue<M365RemediationJobData>(QueueName.M365Remediation, { connection: options.connection, prefix: options.prefix });
  }

  async enqueueSync(accountId: string, runId: string): Promise<void> {
    // A failed sync is not retried in place: it changed nothing, and the next run asks the same question.
    await this.sync.add(M365_DIRECTORY_SYNC_JOB, { accountId, runId }, { ...JOB_OPTIONS, jobId: runId, attempts: 1 });
  }

  async scheduleSync(accountId: string, everyMinutes: number): Promise<void> {
    await this.sync.upsertJobScheduler(
      m365DirectorySyncSchedulerId(accountId),
      { every: everyMinutes * 60_000 },
      { name: M365_DIRECTORY_SYNC_JOB, data: { accountId }, opts: { ...JOB_OPTIONS, attempts: 1 } },
    );
  }

  async unscheduleSync(accountId: string): Promise<void> {
    await this.sync.removeJobScheduler(m365DirectorySyncSchedulerId(accountId));
  }

  async enqueueRemediation(accountId: string, remediationId: string): Promise<void> {
    // Retried with back-off when Graph or the database fails as a whole; finished mailboxes are never redone.
    await this.remediation.add(M365_REMEDIATION_JOB, { accountId, remediationId }, { ...JOB_OPTIONS, jobId: remediationId, attempts: 5, backoff: { type: 'exponential', delay: 30_000 } });
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.sync.close(), this.remediation.close()]);
  }
}
