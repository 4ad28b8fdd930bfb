import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DB_OPTIONS } from '../../db.constants';
import { MessageMetrics } from '../../message-metrics';
import type { DbOptions } from '../../sql';
import type { IncomingMessage, StoredIncoming } from '../../types/message.types';
import { GroupCommit } from '../../group-commit';
import { MessageRepository } from './message.repository';

/** Copies per transaction when DbOptions.commitMaxBatch is not given (the journal ingest's INGEST_COMMIT_MAX_BATCH). */
export const DEFAULT_COMMIT_MAX_BATCH = 64;
/** Raw bytes per transaction when DbOptions.commitMaxBatchBytes is not given: more copies wait for the next commit (a larger copy is committed alone). */
export const DEFAULT_COMMIT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Group commit of received copies (issue 20): the copies that concurrent SMTP sessions store share one transaction,
 * so a durable 250 does not cost a commit (and its WAL flush) and a round trip each. No timer: a copy that arrives
 * while nothing is being committed is committed at once, alone; copies that arrive while a commit is in flight wait
 * for it and then go together in the next one (at most `commitMaxBatch` copies and `commitMaxBatchBytes` of raw bytes),
 * one commit in flight at a time (libs/db `GroupCommit`). Each caller's promise settles only after the commit of its batch
 * (`MessageRepository.storeIncomingMany`: stored, a duplicate, or its own error; a batch that fails is retried copy
 * by copy there, so one bad copy fails only itself).
 */
@Injectable()
export class IncomingCommitter {
  private readonly group: GroupCommit<IncomingMessage, StoredIncoming>;

  constructor(
    messages: MessageRepository,
    @Inject(DB_OPTIONS) options: Pick<DbOptions, 'commitMaxBatch' | 'commitMaxBatchBytes'>,
    @Optional() @Inject(METRICS_REGISTRY) registry: Registry = new Registry(),
  ) {
    const metrics = new MessageMetrics(registry);
    this.group = new GroupCommit(
      (inputs) => messages.storeIncomingMany(inputs),
      { maxBatch: options.commitMaxBatch ?? DEFAULT_COMMIT_MAX_BATCH, maxBatchSize: options.commitMaxBatchBytes ?? DEFAULT_COMMIT_MAX_BATCH_BYTES, sizeOf: (input) => input.raw.byteLength },
      (batch) => metrics.batchCommitted(batch[0]!.source, batch.length),
    );
  }

  /** Copies waiting for the next commit (one is in flight meanwhile). */
  get waitingCopies(): number {
    return this.group.waitingCount;
  }

  /** Stores `input` with the copies of other sessions; settles after the commit, as `MessageRepository.storeIncoming`. */
  store(input: IncomingMessage): Promise<StoredIncoming> {
    return this.group.submit(input);
  }
}
