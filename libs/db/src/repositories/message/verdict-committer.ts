import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DB_OPTIONS } from '../../db.constants';
import { GroupCommit } from '../../group-commit';
import { MessageMetrics } from '../../message-metrics';
import type { DbOptions } from '../../sql';
import type { VerdictWrite } from '../../types/message.types';
import { DEFAULT_COMMIT_MAX_BATCH } from './incoming-committer';
import { MessageRepository } from './message.repository';

/** Verdict rows (recipients) per transaction at most: more scans wait for the next commit (a larger one is committed alone). */
export const VERDICT_COMMIT_MAX_RECIPIENTS = 4096;

/**
 * Group commit of the scan side (issue 20), as `IncomingCommitter` is for the store (the same `GroupCommit`): the
 * concurrent scans of one process (the journal ingest's own scans, a scan worker's concurrent jobs) hand their
 * verdict write here, and the writes that arrive while one commit is in flight go together in the next, ONE
 * statement for all (`MessageRepository.saveVerdictsMany`: at most `commitMaxBatch` messages and
 * {@link VERDICT_COMMIT_MAX_RECIPIENTS} verdicts); likewise the attempt each scan counts before it starts
 * (`countScanAttemptMany`). Each caller learns its own outcome after the commit: claimed, or `alreadyScanned`
 * (exactly one verdict write per message, in one batch too); a failed batch is retried message by message there.
 */
@Injectable()
export class VerdictCommitter {
  private readonly verdicts: GroupCommit<VerdictWrite, { alreadyScanned: boolean }>;
  private readonly attempts: GroupCommit<{ id: string; delta: 1 | -1 }, { attempts: number; lastError: string | null } | null>;

  constructor(
    messages: MessageRepository,
    @Inject(DB_OPTIONS) options: Pick<DbOptions, 'commitMaxBatch'>,
    @Optional() @Inject(METRICS_REGISTRY) registry: Registry = new Registry(),
  ) {
    const metrics = new MessageMetrics(registry);
    const maxBatch = options.commitMaxBatch ?? DEFAULT_COMMIT_MAX_BATCH;
    this.verdicts = new GroupCommit(
      (writes) => messages.saveVerdictsMany(writes),
      { maxBatch, maxBatchSize: VERDICT_COMMIT_MAX_RECIPIENTS, sizeOf: (write) => write.verdicts.length },
      (batch) => metrics.scanBatchCommitted('verdicts', batch.length),
    );
    this.attempts = new GroupCommit(
      (counts) => messages.countScanAttemptMany(counts),
      { maxBatch },
      (batch) => metrics.scanBatchCommitted('attempts', batch.length),
    );
  }

  /** Writes the scan's verdicts with those of concurrent scans; settles after the commit, as `MessageRepository.saveVerdicts`. */
  save(write: VerdictWrite): Promise<{ alreadyScanned: boolean }> {
    return this.verdicts.submit(write);
  }

  /** Counts one more scan attempt with those of concurrent scans; settles after the commit, as `MessageRepository.countScanAttempt`. */
  countAttempt(id: string): Promise<{ attempts: number; lastError: string | null } | null> {
    return this.attempts.submit({ id, delta: 1 });
  }

  /**
   * Releases an attempt counted in advance that no scan used (a copy stored with `scanAttemptCounted`, then handed to
   * the scan queue unscanned), with the counts of concurrent scans.
   */
  releaseAttempt(id: string): Promise<unknown> {
    return this.attempts.submit({ id, delta: -1 });
  }

  /** Verdict writes waiting for the next commit (one is in flight meanwhile). */
  get waitingWrites(): number {
    return this.verdicts.waitingCount;
  }
}
