import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { handle, JobQueue, JobQueues, MimecastPollJob, mimecastPollSchedulerId, QueueName, type JobHandler, type MimecastPollJobData } from '@mailwarden/queue';
import type { MimecastConnection } from '@mailwarden/db';
import { MimecastPollStatus, type MimecastPollerService, type MimecastPollResult } from './mimecast-poller.service';

/**
 * Keeps one BullMQ job scheduler per account on QueueName.MimecastPoll (the app's JobQueues, QueueModule). The
 * scheduler id is the account's, so re-configuring an account replaces its schedule instead of adding a second one.
 */
export class MimecastPollScheduler {
  readonly jobs: JobQueue;

  constructor(queues: JobQueues) {
    this.jobs = queues.get(QueueName.MimecastPoll);
  }

  get queue() {
    return this.jobs.queue;
  }

  async schedule(connection: Pick<MimecastConnection, 'id' | 'accountId' | 'enabled' | 'pollIntervalSeconds'>): Promise<void> {
    if (!connection.enabled) {
      await this.unschedule(connection.accountId);
      return;
    }
    await this.jobs.schedule(MimecastPollJob, mimecastPollSchedulerId(connection.accountId), connection.pollIntervalSeconds * 1000, { accountId: connection.accountId, connectionId: connection.id });
  }

  async unschedule(accountId: string): Promise<void> {
    await this.jobs.unschedule(mimecastPollSchedulerId(accountId));
  }
}

/** The job handler: runs one poll and fails the job when the poll failed, so BullMQ shows it. */
export function createMimecastPollProcessor(poller: Pick<MimecastPollerService, 'poll'>) {
  const logger = new Logger('MimecastPollProcessor');
  return async (job: Job<MimecastPollJobData>): Promise<MimecastPollResult> => {
    const result = await poller.poll(job.data.connectionId);
    if (result.status === MimecastPollStatus.Failed) {
      logger.warn({ event: 'mimecast.poll.job_failed', jobId: job.id, accountId: job.data.accountId, errors: result.errors });
      throw new Error(`Mimecast poll of account ${job.data.accountId} failed: ${result.errors.join('; ')}`);
    }
    return result;
  };
}

/** The handlers of QueueName.MimecastPoll (JobWorkers.start). Polls of one account never overlap: the poller holds a lease per connection. */
export function mimecastPollHandlers(poller: Pick<MimecastPollerService, 'poll'>): JobHandler[] {
  return [handle(MimecastPollJob, createMimecastPollProcessor(poller))];
}
