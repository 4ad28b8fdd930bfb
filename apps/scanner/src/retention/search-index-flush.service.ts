import { Injectable } from '@nestjs/common';
import { RetentionRepository } from '@mailwarden/db';
import { RepeatingService, type Repetition } from '../common/repeating.service';

const FLUSH_EVERY_MS = 1_000;

/**
 * Flushes the pending lists of the message search's GIN indexes (subject trigrams, envelope recipients) every second
 * in the scan workers (migration 20261208100000): a store appends its entries to the list, and the flush inserts
 * them sorted, one tree update per key for many messages, instead of each store inserting each entry into the tree
 * (tools/bench/README.md, "PostgreSQL per statement"). Between flushes a store that fills a list (1 MB) flushes it
 * itself, so a deployment without scan workers stays correct, only slower. Several processes: one flushes at a time.
 */
@Injectable()
export class SearchIndexFlushService extends RepeatingService {
  private running = false;
  private failing = false;

  constructor(private readonly retention: RetentionRepository) {
    super();
  }

  protected repetition(): Repetition {
    return { everyMs: FLUSH_EVERY_MS, failedEvent: 'search_index.flush_failed' };
  }

  protected repeat(): Promise<number | null> {
    return this.flush();
  }

  /** One flush; the pages flushed, -1 when another session was flushing, null when a flush of this process is still running or it failed. */
  async flush(): Promise<number | null> {
    if (this.running) {
      return null;
    }
    this.running = true;
    try {
      const pages = await this.retention.flushSearchPending();
      this.failing = false;
      return pages;
    } catch (error) {
      // Once per series of failures (the database away, say), not every second.
      if (!this.failing) {
        this.logger.warn({ event: 'search_index.flush_failed', error: (error as Error).message });
      }
      this.failing = true;
      return null;
    } finally {
      this.running = false;
    }
  }
}
