import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { handle, JobWorkers, QueueName, ScanMessageJob, type ScanMessageJobData } from '@mailwarden/queue';
import { MessageNotFoundError, ScanMessageService, ScanOutcome } from '@mailwarden/scanning';

/**
 * A job whose worker died (kill -9, lost Redis connection) is given back after its lock expires and the next stalled
 * check runs: 15 s each instead of BullMQ's 30 s halves that wait (about 60 s before, tools/faults). A living worker
 * renews its locks every lockDuration/2, so a slow scan (DNS timeouts) keeps its job.
 */
const SCAN_JOB_LOCK_MS = 15_000;

/** Runs the scan of one stored message (journal copies, and gateway messages stored for the scan). */
@Injectable()
export class ScanMessageProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(ScanMessageProcessor.name);

  constructor(
    private readonly scans: ScanMessageService,
    private readonly workers: JobWorkers,
    @Inject(APP_CONFIG) private readonly config: ScannerConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Concurrency comes from the environment (STYLE.md §5).
    this.workers.start(QueueName.Scan, [handle(ScanMessageJob, (job) => this.process(job))], {
      concurrency: this.config.SCAN_CONCURRENCY,
      lockDuration: SCAN_JOB_LOCK_MS,
      stalledInterval: SCAN_JOB_LOCK_MS,
    });
  }

  async process(job: Job<ScanMessageJobData>): Promise<ScanOutcome> {
    const attempts = job.opts.attempts ?? 1;
    try {
      const { outcome } = await this.scans.scan(job.data.messageId, { finalAttempt: job.attemptsMade + 1 >= attempts });
      return outcome;
    } catch (error) {
      if (error instanceof MessageNotFoundError) {
        throw new UnrecoverableError(error.message);
      }
      this.logger.warn({ event: 'scan.retry', messageId: job.data.messageId, attempt: job.attemptsMade + 1, error: (error as Error).message });
      throw error;
    }
  }
}
