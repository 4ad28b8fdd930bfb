import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { mimecastPollHandlers, MimecastPollerService, MimecastService } from '@mailwarden/mimecast';
import { JobWorkers, QueueName } from '@mailwarden/queue';

/**
 * Runs the Mimecast TTP log polls (one BullMQ job scheduler per configured account) in the scanner's worker role,
 * and re-asserts every enabled connection's schedule at start.
 */
export class MimecastWorkerService implements OnApplicationBootstrap {
  private readonly logger = new Logger(MimecastWorkerService.name);

  constructor(
    private readonly poller: MimecastPollerService,
    private readonly mimecast: MimecastService,
    private readonly workers: JobWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Forced close at shutdown: a running poll is left behind (BullMQ's forced close): each page commits with its
    // cursor, and the next poll marks the interrupted run failed and resumes from the cursor, so nothing is skipped or repeated.
    this.workers.start(QueueName.MimecastPoll, mimecastPollHandlers(this.poller), { concurrency: 4, forceClose: true });
    const scheduled = await this.mimecast.syncSchedules();
    this.logger.log({ event: 'mimecast.worker_started', scheduledAccounts: scheduled });
  }
}
