import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DB_OPTIONS } from '../../db.constants';
import { MessageMetrics } from '../../message-metrics';
import type { DbOptions } from '../../sql';
import type { IncomingMessage, StoredIncoming } from '../../types/message.types';
import { MessageRepository } from './message.repository';

/** Copies per transaction when DbOptions.commitMaxBatch is not given (the journal ingest's INGEST_COMMIT_MAX_BATCH). */
export const DEFAULT_COMMIT_MAX_BATCH = 64;
/** Raw bytes per transaction when DbOptions.commitMaxBatchBytes is not given: more copies wait for the next commit (a larger copy is committed alone). */
export const DEFAULT_COMMIT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface Waiting {
  input: IncomingMessage;
  resolve: (stored: StoredIncoming) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of received copies (issue 20): the copies that concurrent SMTP sessions store share one transaction,
 * so a durable 250 does not cost a commit (and its WAL flush) and a round trip each. No timer: a copy that arrives
 * while nothing is being committed is committed at once, alone; copies that arrive while a commit is in flight wait
 * for it and then go together in the next one (at most `commitMaxBatch` copies and `commitMaxBatchBytes` of raw bytes),
 * one commit in flight at a time. Each caller's promise settles only after the commit of its batch
 * (`MessageRepository.storeIncomingMany`: stored, a duplicate, or its own error; a batch that fails is retried copy
 * by copy there, so one bad copy fails only itself).
 */
@Injectable()
export class IncomingCommitter {
  private readonly waiting: Waiting[] = [];
  private committing = false;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly metrics: MessageMetrics;

  constructor(
    private readonly messages: MessageRepository,
    @Inject(DB_OPTIONS) options: Pick<DbOptions, 'commitMaxBatch' | 'commitMaxBatchBytes'>,
    @Optional() @Inject(METRICS_REGISTRY) registry: Registry = new Registry(),
  ) {
    this.maxBatch = Math.max(1, options.commitMaxBatch ?? DEFAULT_COMMIT_MAX_BATCH);
    this.maxBatchBytes = options.commitMaxBatchBytes ?? DEFAULT_COMMIT_MAX_BATCH_BYTES;
    this.metrics = new MessageMetrics(registry);
  }

  /** Copies waiting for the next commit (one is in flight meanwhile). */
  get waitingCopies(): number {
    return this.waiting.length;
  }

  /** Stores `input` with the copies of other sessions; settles after the commit, as `MessageRepository.storeIncoming`. */
  store(input: IncomingMessage): Promise<StoredIncoming> {
    return new Promise<StoredIncoming>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.commitNext();
    });
  }

  private commitNext(): void {
    if (this.committing || this.waiting.length === 0) {
      return;
    }
    this.committing = true;
    void this.commit(this.takeBatch()).finally(() => {
      this.committing = false;
      this.commitNext();
    });
  }

  /** The oldest waiting copies, within the bounds. */
  private takeBatch(): Waiting[] {
    let count = 0;
    let bytes = 0;
    while (count < this.waiting.length && count < this.maxBatch) {
      const size = this.waiting[count]!.input.raw.byteLength;
      if (count > 0 && bytes + size > this.maxBatchBytes) {
        break;
      }
      bytes += size;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async commit(batch: Waiting[]): Promise<void> {
    this.metrics.batchCommitted(batch[0]!.input.source, batch.length);
    let outcomes: Array<PromiseSettledResult<StoredIncoming>>;
    try {
      outcomes = await this.messages.storeIncomingMany(batch.map((waiting) => waiting.input));
    } catch (error) {
      // storeIncomingMany settles each copy itself; this is a statement it could not even build.
      outcomes = batch.map(() => ({ status: 'rejected', reason: error }));
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index]!;
      if (outcome.status === 'fulfilled') {
        waiting.resolve(outcome.value);
      } else {
        waiting.reject(outcome.reason);
      }
    });
  }
}
