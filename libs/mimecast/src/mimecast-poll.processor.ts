import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { QueueName } from '@mailwarden/queue';
import type { MimecastConnection } from '@mailwarden/db';
import { MIMECAST_POLL_JOB, mimecastPollSchedulerId, type MimecastPollJobData } from './mimecast-poll.job';
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
  readonly queue: Queue<MimecastPollJobData>;

  constructor(options: MimecastQueueOptions) {
    this.queue = new Queue<MimecastPollJobData>(QueueName.MimecastPoll, { connection: options.connection, prefix: options.prefix });
  }

  async schedule(connection: Pick<MimecastConnection, 'id' | 'accountId' | 'enabled' | 'pollIntervalSeconds'>): Promise<void> {
    if (!connection.enabled) {
      await this.unschedule(connection.accountId);
      return;
    }
    await this.queue.upsertJobScheduler(
      mimecastPollSchedulerId(connection.accountId),
      { every: connection.pollIntervalSeconds * 1000 },
      {
        name: MIMECAST_POLL_JOB,
        data: { accountId: connection.accountId, connectionId: connection.id },
        // A failed poll is not retried in place: the next scheduled poll resumes from the persisted cursor.
        opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  }

  async unschedule(accountId: string): Promise<void> {
    await this.queue.removeJobScheduler(mimecastPollSchedulerId(accountId));
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  /** Provided through MimecastModule.forRoot({ queue }), the app's shutdown closes the queue's connection. */
  onModuleDestroy(): Promise<void> {
    return this.close();
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

/** A worker for QueueName.MimecastPoll. Polls of one account never overlap: the poller holds a lease per connection. */
export function createMimecastPollWorker(
  poller: Pick<MimecastPollerService, 'poll'>,
  options: MimecastQueueOptions & { concurrency?: number },
): Worker<MimecastPollJobData, MimecastPollResult> {
  return new Worker<MimecastPollJobData, MimecastPollResult>(QueueName.MimecastPoll, createMimecastPollProcessor(poller), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 4,
  });
}
