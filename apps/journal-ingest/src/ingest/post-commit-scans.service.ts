import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type JournalIngestConfig } from '@mailwarden/config';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { JobQueues, ScanMessageJob, type ScanMessageJobData } from '@mailwarden/queue';
import { InlineScans, ScanMessageService, type StoredCopy } from '@mailwarden/scanning';

/**
 * What happens to a journal copy after its commit (issue 20): scanned here, in process (INGEST_INLINE_SCAN, libs/scanning
 * `InlineScans`), or put on the scan queue for the scanner workers, as before, when inline scanning is off or full,
 * or its attempt failed with an error worth retrying. The sweeper (apps/scanner) queues whatever neither finished.
 */
@Injectable()
export class PostCommitScans {
  private readonly logger = new Logger(PostCommitScans.name);
  private readonly inline: InlineScans;
  private readonly inlineEnabled: boolean;

  constructor(
    scans: ScanMessageService,
    private readonly queues: JobQueues,
    @Inject(APP_CONFIG) config: JournalIngestConfig,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.inlineEnabled = config.INGEST_INLINE_SCAN;
    this.inline = new InlineScans(
      scans,
      {
        enabled: config.INGEST_INLINE_SCAN,
        concurrency: config.INGEST_INLINE_SCAN_CONCURRENCY,
        maxWaiting: config.INGEST_INLINE_SCAN_BACKLOG,
        maxBytes: config.INGEST_INLINE_SCAN_BACKLOG_BYTES,
      },
      (copy) => this.enqueue({ messageId: copy.target.id, accountId: copy.target.accountId }),
      registry,
    );
  }

  /**
   * Whether a copy stored now will be scanned here first (INGEST_INLINE_SCAN): its store then counts that attempt
   * (`IncomingMessage.scanAttemptCounted`), so the scan needs no statement of its own for it.
   */
  get countsAttemptAtStore(): boolean {
    return this.inlineEnabled;
  }

  /** The in-process scanner's load (tests and the shutdown log). */
  get load(): InlineScans['load'] {
    return this.inline.load;
  }

  /** A copy this process has just committed: scanned here when it can be, else queued. Never waits. */
  scan(copy: StoredCopy): void {
    this.inline.submit(copy);
  }

  /**
   * A scan job, for a copy this process did not store now (a duplicate: its scan belongs to the first copy, and the
   * job id, the message id, keeps a queued or running one from being added twice). While Redis is down this waits,
   * never the SMTP reply; the sweeper enqueues whatever this does not.
   */
  enqueue(job: ScanMessageJobData): Promise<void> {
    return this.queues.add(ScanMessageJob, job).then(
      () => undefined,
      (error: Error) => this.logger.warn({ event: 'journal.enqueue_failed', messageId: job.messageId, error: error.message }),
    );
  }

  /** Graceful shutdown, once the SMTP front no longer takes copies: see InlineScans.close. */
  async drain(): Promise<void> {
    await this.inline.close();
  }
}
