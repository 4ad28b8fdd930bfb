import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RetentionRepository } from '@mailwarden/db';

const FLUSH_EVERY_MS = 1_000;

/**
 * Flushes the pending lists of the message search's GIN indexes (subject trigrams, envelope recipients) every second
 * in the scan workers (migration 20261208100000): a store appends its entries to the list, and the flush inserts
 * them sorted, one tree update per key for many messages, instead of each store inserting each entry into the tree
 * (tools/bench/README.md, "PostgreSQL per statement"). Between flushes a store that fills a list (1 MB) flushes it
 * itself, so a deployment without scan workers stays correct, only slower. Several processes: one flushes at a time.
 */
@Injectable()
export class SearchIndexFlushService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SearchIndexFlushService.name);
  private timer?: NodeJS.Timeout;
  private running = false;
  private failing = false;

  constructor(private readonly retention: RetentionRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
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
