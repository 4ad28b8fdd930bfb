import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { ConnectionOptions, Job } from 'bullmq';
import { handle, JobQueue, MimecastPollJob, mimecastPollSchedulerId, QueueName, type JobHandler, type MimecastPollJobData } from '@mailwarden/queue';
import type { MimecastConnection } from '@mailwarden/db';
import { MimecastPollStatus, type MimecastPollerService, type MimecastPollResult } from './mimecast-poller.service';

export interface MimecastQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (tests give each file its own). */
  prefix?: string;
}

/**
 * Keeps one BullMQ job scheduler per account on QueueName.MimecastPoll. The scheduler id is the account's,
 * so re-configuring an account replaces its schedule instead of adding a second one.
 */
export class MimecastPollScheduler implements OnModuleDestroy {
  readonly jobs: JobQueue;
  /** Built here from settings (closed here), rather than the app's shared queue (closed by QueueModule). */
  private readonly owned: boolean;

  /** `queue`: the app's JobQueues.get(QueueName.MimecastPoll) (shared connection), or connection settings (tests). */
  constructor(queue: JobQueue | MimecastQueueOptions) {
    this.owned = !(queue instanceof JobQueue);
    this.jobs = queue instanceof JobQueue ? queue : new JobQueue(QueueName.MimecastPoll, queue);
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

  close(): Promise<void> {
    return this.jobs.close();
  }

  /** Provided through MimecastModule.forRoot({ queue }) without QueueModule, the app's shutdown closes the queue's connection. */
  async onModuleDestroy(): Promise<void> {
    if (this.owned) {
      await this.close();
    }
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
