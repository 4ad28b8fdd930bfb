import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Worker } from 'bullmq';
import { createMimecastPollWorker, MimecastPollerService, MimecastService, type MimecastQueueOptions } from '@mailwarden/mimecast';

/**
 * Runs the Mimecast TTP log polls (one BullMQ job scheduler per configured account) in the scanner's worker role,
 * and re-asserts every enabled connection's schedule at start.
 */
export class MimecastWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MimecastWorkerService.name);
  private worker?: Worker;

  constructor(
    private readonly poller: MimecastPollerService,
    private readonly mimecast: MimecastService,
    private readonly queue: MimecastQueueOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.worker = createMimecastPollWorker(this.poller, this.queue);
    this.worker.on('error', (error) => this.logger.warn({ event: 'mimecast.worker_error', error: error.message }));
    const scheduled = await this.mimecast.syncSchedules();
    this.logger.log({ event: 'mimecast.worker_started', scheduledAccounts: scheduled });
  }

  /**
   * Stops taking polls and leaves a running one behind (BullMQ's forced close): each page commits with its cursor,
   * and the next poll marks the interrupted run failed and resumes from the cursor, so nothing is skipped or repeated.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close(true);
  }
}
