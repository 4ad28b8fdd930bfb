import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DB_OPTIONS } from '../../db.constants';
import { GroupCommit } from '../../group-commit';
import { MessageMetrics } from '../../message-metrics';
import type { DbOptions } from '../../sql';
import type { ProcessedWrite, StoredProcessed } from '../../types/message.types';
import { DEFAULT_COMMIT_MAX_BATCH, DEFAULT_COMMIT_MAX_BATCH_BYTES } from '../message/incoming-committer';
import { DeliveryRepository } from './delivery.repository';

/**
 * Group commit of the gateway front (issue 20), as `IncomingCommitter` is for journal copies (the same `GroupCommit`):
 * the messages that concurrent SMTP sessions store, already decided, while a commit is in flight go together in the
 * next one (`DeliveryRepository.storeProcessedMany`, one statement; at most `commitMaxBatch` messages and
 * `commitMaxBatchBytes` of raw bytes). Each session's promise settles after the commit of its batch, with its own
 * outcome, so its 250 still follows its commit; a failed batch is retried message by message there.
 */
@Injectable()
export class ProcessedCommitter {
  private readonly group: GroupCommit<ProcessedWrite, StoredProcessed>;

  constructor(
    deliveries: DeliveryRepository,
    @Inject(DB_OPTIONS) options: Pick<DbOptions, 'commitMaxBatch' | 'commitMaxBatchBytes'>,
    @Optional() @Inject(METRICS_REGISTRY) registry: Registry = new Registry(),
  ) {
    const metrics = new MessageMetrics(registry);
    this.group = new GroupCommit(
      (writes) => deliveries.storeProcessedMany(writes),
      { maxBatch: options.commitMaxBatch ?? DEFAULT_COMMIT_MAX_BATCH, maxBatchSize: options.commitMaxBatchBytes ?? DEFAULT_COMMIT_MAX_BATCH_BYTES, sizeOf: (write) => write.input.raw.byteLength },
      (batch) => metrics.batchCommitted(batch[0]!.input.source, batch.length),
    );
  }

  /** Messages waiting for the next commit (one is in flight meanwhile). */
  get waitingMessages(): number {
    return this.group.waitingCount;
  }

  /** `DeliveryRepository.storeProcessed` (the same arguments) with the messages of other sessions; settles after the commit. */
  storeProcessed(
    input: ProcessedWrite['input'],
    verdicts: ProcessedWrite['verdicts'],
    status: ProcessedWrite['status'],
    copies: ProcessedWrite['copies'],
    options: { quarantineExpiresAt?: Date | null; claimLeaseMs?: number | null } = {},
  ): Promise<StoredProcessed> {
    return this.group.submit({ input, verdicts, status, copies, quarantineExpiresAt: options.quarantineExpiresAt ?? null, claimLeaseMs: options.claimLeaseMs ?? null });
  }
}
