import { performance } from 'node:perf_hooks';

/**
 * How fast the retention purge deletes (the scanner's RETENTION_PURGE_BATCH and RETENTION_PURGE_RATE): the scan
 * workers' retention run and the bench's purge during load both drain through {@link drainBatches} with it.
 */
export interface RetentionPace {
  /** Rows per batch: one statement (or one short transaction) each. */
  batchSize: number;
  /** Rows deleted per second at most, over a run. */
  rowsPerSecond: number;
}

/**
 * The pause after a batch of `rows` that took `batchMs`: whatever keeps the purge at `rowsPerSecond`, and never less
 * than the batch took, so the purge works at most half the time. A busy database makes batches slower and the
 * pauses with them: the purge backs off while the message path needs the database, and still removes a batch per
 * two batch times at worst, so it always ends.
 */
export function retentionPauseMs(rows: number, batchMs: number, pace: RetentionPace): number {
  return Math.max((rows * 1000) / pace.rowsPerSecond - batchMs, batchMs, 0);
}

export interface DrainResult {
  rows: number;
  batches: number;
  /** False when `maxBatches` stopped it: the rest waits for the next run. */
  complete: boolean;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/**
 * Runs `batch` (which deletes at most `pace.batchSize` rows and returns how many it took) until one comes back with
 * fewer, or `maxBatches` ran, pausing between batches as {@link retentionPauseMs} says.
 */
export async function drainBatches(
  batch: () => Promise<number>,
  pace: RetentionPace,
  options: { maxBatches: number; afterBatch?: () => Promise<void>; pause?: (ms: number) => Promise<void> },
): Promise<DrainResult> {
  const pause = options.pause ?? sleep;
  let rows = 0;
  for (let batches = 1; batches <= options.maxBatches; batches += 1) {
    const started = performance.now();
    const removed = await batch();
    rows += removed;
    await options.afterBatch?.();
    if (removed < pace.batchSize) {
      return { rows, batches, complete: true };
    }
    if (batches < options.maxBatches) {
      await pause(retentionPauseMs(removed, performance.now() - started, pace));
    }
  }
  return { rows, batches: options.maxBatches, complete: false };
}
