/** The bounds of one batch of a {@link GroupCommit}. */
export interface GroupCommitBounds<I> {
  /** Inputs per batch at most (at least 1). */
  maxBatch: number;
  /** `sizeOf` summed over a batch at most; a single input larger than this goes alone. Unbounded when not given. */
  maxBatchSize?: number;
  sizeOf?: (input: I) => number;
}

interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit (issue 20): the writes that concurrent callers hand in while one commit is in flight wait for it and
 * then go together in the next, one commit in flight at a time, each batch within its bounds. No timer: a write that
 * finds nothing in flight is committed at once, alone. `commitMany` writes a batch (in one statement, so one
 * transaction and one WAL flush) and settles each input on its own; each caller's promise settles only after that,
 * with its own outcome. Used by `IncomingCommitter` (received copies) and `VerdictCommitter` (verdicts, scan attempts).
 */
export class GroupCommit<I, O> {
  private readonly waiting: Array<Waiting<I, O>> = [];
  private committing = false;
  private readonly maxBatch: number;

  constructor(
    private readonly commitMany: (inputs: I[]) => Promise<Array<PromiseSettledResult<O>>>,
    private readonly bounds: GroupCommitBounds<I>,
    /** Told of each batch before it is committed (metrics). */
    private readonly onBatch: (inputs: readonly I[]) => void = () => undefined,
  ) {
    this.maxBatch = Math.max(1, bounds.maxBatch);
  }

  /** Inputs waiting for the next commit (one is in flight meanwhile). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Commits `input` with those of other callers; settles after the commit with `input`'s own outcome. */
  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
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

  /** The oldest waiting inputs, within the bounds. */
  private takeBatch(): Array<Waiting<I, O>> {
    const { maxBatchSize, sizeOf } = this.bounds;
    let count = 0;
    let size = 0;
    while (count < this.waiting.length && count < this.maxBatch) {
      if (maxBatchSize !== undefined && sizeOf) {
        const next = sizeOf(this.waiting[count]!.input);
        if (count > 0 && size + next > maxBatchSize) {
          break;
        }
        size += next;
      }
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async commit(batch: Array<Waiting<I, O>>): Promise<void> {
    const inputs = batch.map((waiting) => waiting.input);
    let outcomes: Array<PromiseSettledResult<O>>;
    try {
      this.onBatch(inputs);
      outcomes = await this.commitMany(inputs);
    } catch (error) {
      // commitMany settles each input itself; this is a batch it could not even build.
      outcomes = batch.map(() => ({ status: 'rejected', reason: error }));
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index] ?? { status: 'rejected', reason: new Error('group commit: no outcome for this input') };
      if (outcome.status === 'fulfilled') {
        waiting.resolve(outcome.value);
      } else {
        waiting.reject(outcome.reason);
      }
    });
  }
}

/** A promise's outcome as `Promise.allSettled` gives it, for one promise. */
export const settle = <T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> =>
  promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
