import { drainBatches, retentionPauseMs, type RetentionPace } from './retention-pace';

describe('retention pace', () => {
  const pace: RetentionPace = { batchSize: 500, rowsPerSecond: 200 };

  it('should wait so that a full batch takes its share of the rate, and at least as long as the batch took', () => {
    // 500 rows at 200 rows/s: 2.5 s per batch; a batch of 100 ms waits the other 2.4 s.
    expect(retentionPauseMs(500, 100, pace)).toBe(2400);
    // A busy database makes the batch slow: the purge then works at most half the time (it backs off with the load).
    expect(retentionPauseMs(500, 3000, pace)).toBe(3000);
    expect(retentionPauseMs(0, 0, pace)).toBe(0);
  });

  it('should stop at the first batch smaller than the batch size, pausing only between full batches', async () => {
    const sizes = [3, 3, 1, 3];
    const pauses: number[] = [];
    const result = await drainBatches(async () => sizes.shift()!, { batchSize: 3, rowsPerSecond: 1e6 }, { maxBatches: 10, pause: async (ms) => void pauses.push(ms) });
    expect(result).toEqual({ rows: 7, batches: 3, complete: true });
    expect(pauses).toHaveLength(2);
    expect(sizes).toEqual([3]);
  });

  it('should stop at the batch cap and say the rest waits (a run always ends)', async () => {
    let calls = 0;
    const result = await drainBatches(async () => (calls++, 2), { batchSize: 2, rowsPerSecond: 1e6 }, { maxBatches: 4, pause: async () => undefined });
    expect(result).toEqual({ rows: 8, batches: 4, complete: false });
    expect(calls).toBe(4);
  });

  it('should keep to the rate over a run: 20 rows at 200 rows/s take about 100 ms', async () => {
    const started = performance.now();
    let left = 20;
    const result = await drainBatches(async () => {
      const rows = Math.min(5, left);
      left -= rows;
      return rows;
    }, { batchSize: 5, rowsPerSecond: 200 }, { maxBatches: 100 });
    const elapsed = performance.now() - started;
    expect(result).toEqual({ rows: 20, batches: 5, complete: true });
    // Four full batches of 5 rows, each followed by its 25 ms; the fifth is empty and ends the run.
    expect(elapsed).toBeGreaterThanOrEqual(95);
  });
});
