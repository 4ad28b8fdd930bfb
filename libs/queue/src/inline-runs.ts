import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { boundedLabel, counter, gauge, metricsIn } from '@mailwarden/observability';

/** A waiting item not started in process within this long after its commit goes to its queue instead. */
export const INLINE_RUN_MAX_WAIT_MS = 5_000;

/** How long a graceful shutdown waits for the in-process runs still going; the rest is left to the sweepers. */
export const INLINE_RUN_DRAIN_MS = 10_000;

export interface InlineRunSettings {
  /** Off: every item goes to the queue (reason `off`). */
  enabled: boolean;
  /** Runs at once. */
  concurrency: number;
  /** Items waiting for a free slot; one more goes to the queue (reason `saturated`). */
  maxWaiting: number;
  /** Bytes held by the waiting and running items; an item that would pass it goes to the queue (`saturated`). */
  maxBytes: number;
  /** A waiting item not started within this long goes to the queue (`waited`). */
  maxWaitMs?: number;
}

/**
 * Why an item was handed to its queue instead of an in-process run: in-process runs are off, they were full, the
 * item waited too long for a slot, its in-process attempt failed with an error that a later attempt may not have
 * (DNS temperror, PostgreSQL), or the process was shutting down.
 */
export type InlineHandoffReason = 'off' | 'saturated' | 'waited' | 'retry' | 'closing';
const HANDOFF_REASONS: ReadonlySet<string> = new Set<InlineHandoffReason>(['off', 'saturated', 'waited', 'retry', 'closing']);

/** Puts an item on its queue. Its failure is logged; the kind's sweeper covers it. */
export type InlineHandoff<T> = (item: T, reason: InlineHandoffReason) => Promise<void>;

/** One kind of in-process run: what it does with an item, and the names it reports under. */
export interface InlineRunKind<T> {
  /** Log events are `<kind>.inline_retry` and `<kind>.handoff_failed`; metrics `mailwarden_inline_<kind>_…`. */
  kind: string;
  /** Runs an item; a rejection hands it to the queue (reason `retry`). */
  run: (item: T) => Promise<unknown>;
  /** The bytes an item holds while it waits or runs. */
  bytesOf: (item: T) => number;
  /** The id of the item's message, for the logs. */
  idOf: (item: T) => string;
  /** Puts an item on the queue. */
  handoff: InlineHandoff<T>;
  /** Metric names, fixed per kind (dashboards read them). */
  metrics: { handoffs: string; backlog: string; running: string };
}

interface Waiting<T> {
  item: T;
  since: number;
}

/**
 * Work on something a process has just committed, done by that process right after the commit (issue 20) instead of
 * through a queue: bounded concurrency and a bounded in-memory backlog (count and bytes). What it cannot take goes
 * to the queue through `handoff`, so the queue and its sweeper stay the crash-safe path: the commit leaves the item in
 * a state the sweeper finds if this process dies before the run ends. Never throws to the caller, never makes it
 * wait. Used by the journal ingest's scans (libs/scanning `InlineScans`) and the gateway's deliveries (apps/scanner
 * `PostCommitDeliveries`).
 */
export class InlineRuns<T> {
  private readonly logger: Logger;
  private readonly waiting: Array<Waiting<T>> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private running = 0;
  private heldBytes = 0;
  private closing = false;
  private readonly maxWaitMs: number;
  private readonly handoffs;

  constructor(
    private readonly kind: InlineRunKind<T>,
    private readonly settings: InlineRunSettings,
    registry: Registry = new Registry(),
  ) {
    this.logger = new Logger(`InlineRuns:${kind.kind}`);
    this.maxWaitMs = settings.maxWaitMs ?? INLINE_RUN_MAX_WAIT_MS;
    const { handoffs, backlog, running } = metricsIn(registry, {
      handoffs: counter(kind.metrics.handoffs, `Items sent to the ${kind.kind} queue instead of (or after) an in-process run, by why`, ['reason']),
      backlog: gauge(kind.metrics.backlog, `Items waiting for an in-process ${kind.kind} run`),
      running: gauge(kind.metrics.running, `In-process ${kind.kind} runs going`),
    });
    this.handoffs = handoffs;
    // Read when Prometheus scrapes: nothing on the message path.
    (backlog as unknown as { collect: () => void }).collect = () => backlog.set(this.waiting.length);
    (running as unknown as { collect: () => void }).collect = () => running.set(this.running);
  }

  /** Items waiting and running, and the bytes they hold (tests, shutdown logs). */
  get load(): { waiting: number; running: number; bytes: number } {
    return { waiting: this.waiting.length, running: this.running, bytes: this.heldBytes };
  }

  /**
   * Takes a committed item. Its run starts on a later turn of the event loop, so the SMTP reply that follows the
   * commit is written first and never waits for it.
   */
  submit(item: T): void {
    if (!this.settings.enabled) {
      return this.handOff(item, 'off');
    }
    if (this.closing) {
      return this.handOff(item, 'closing');
    }
    const size = this.kind.bytesOf(item);
    const roomForBytes = this.heldBytes + size <= this.settings.maxBytes;
    if (roomForBytes && this.running < this.settings.concurrency && this.waiting.length === 0) {
      this.heldBytes += size;
      this.start(item);
    } else if (roomForBytes && this.waiting.length < this.settings.maxWaiting) {
      this.heldBytes += size;
      this.waiting.push({ item, since: Date.now() });
    } else {
      this.handOff(item, 'saturated');
    }
  }

  /**
   * Graceful shutdown, after the SMTP front has drained (no item arrives any more): the waiting items go to the
   * queue, the running ones get up to `timeoutMs` to finish. One still running after that is left to the sweeper.
   * Logs `<kind>.inline_drained` with both counts when either is not zero.
   */
  async close(timeoutMs = INLINE_RUN_DRAIN_MS): Promise<{ handedOff: number; unfinished: number }> {
    this.closing = true;
    const handedOff = this.waiting.length;
    for (const { item } of this.waiting.splice(0)) {
      this.heldBytes -= this.kind.bytesOf(item);
      this.handOff(item, 'closing');
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
    const unfinished = this.running;
    if (handedOff > 0 || unfinished > 0) {
      this.logger.log({ event: `${this.kind.kind}.inline_drained`, handedOffToQueue: handedOff, leftForSweeper: unfinished });
    }
    return { handedOff, unfinished };
  }

  private start(item: T): void {
    this.running++;
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.kind.run(item))
      .then(
        () => undefined,
        (error: Error) => {
          this.logger.warn({ event: `${this.kind.kind}.inline_retry`, messageId: this.kind.idOf(item), error: error.message });
          this.handOff(item, 'retry');
        },
      )
      .finally(() => {
        this.running--;
        this.heldBytes -= this.kind.bytesOf(item);
        this.inFlight.delete(work);
        this.next();
      });
    this.inFlight.add(work);
  }

  private next(): void {
    while (this.running < this.settings.concurrency && this.waiting.length > 0) {
      const { item, since } = this.waiting.shift()!;
      if (this.closing || Date.now() - since > this.maxWaitMs) {
        this.heldBytes -= this.kind.bytesOf(item);
        this.handOff(item, this.closing ? 'closing' : 'waited');
      } else {
        this.start(item);
      }
    }
  }

  private handOff(item: T, reason: InlineHandoffReason): void {
    this.handoffs.inc({ reason: boundedLabel(reason, HANDOFF_REASONS) });
    const work = this.kind
      .handoff(item, reason)
      .catch((error: Error) => this.logger.warn({ event: `${this.kind.kind}.handoff_failed`, messageId: this.kind.idOf(item), reason, error: error.message }))
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }
}
