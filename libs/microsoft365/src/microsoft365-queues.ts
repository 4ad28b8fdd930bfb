import { JobQueue, JobQueues, M365DirectorySyncJob, m365DirectorySyncSchedulerId, M365RemediationJob, QueueName } from '@mailwarden/queue';

/**
 * Producer side of the Microsoft 365 queues: on-demand and scheduled syncs, remediations. On the app's JobQueues
 * (QueueModule): its connection, prefix and job defaults; QueueModule closes the queues.
 */
export class Microsoft365Queues {
  readonly sync: JobQueue;
  readonly remediation: JobQueue;

  constructor(queues: JobQueues) {
    this.sync = queues.get(QueueName.M365DirectorySync);
    this.remediation = queues.get(QueueName.M365Remediation);
  }

  async enqueueSync(accountId: string, runId: string): Promise<void> {
    // A failed sync is not retried in place: it changed nothing, and the next run asks the same question.
    await this.sync.add(M365DirectorySyncJob, { accountId, runId });
  }

  async scheduleSync(accountId: string, everyMinutes: number): Promise<void> {
    await this.sync.schedule(M365DirectorySyncJob, m365DirectorySyncSchedulerId(accountId), everyMinutes * 60_000, { accountId });
  }

  async unscheduleSync(accountId: string): Promise<void> {
    await this.sync.unschedule(m365DirectorySyncSchedulerId(accountId));
  }

  async enqueueRemediation(accountId: string, remediationId: string): Promise<void> {
    // Retried with back-off when Graph or the database fails as a whole; finished mailboxes are never redone.
    await this.remediation.add(M365RemediationJob, { accountId, remediationId });
  }
}
