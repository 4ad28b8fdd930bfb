import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { ScanTarget } from '@mailwarden/db';
import { boundedLabel, counter, gauge, metricsIn } from '@mailwarden/observability';
import type { ScanMessageService } from './scan-message.service';

/**
 * The sweeper queues a PENDING message again once it is this old (apps/scanner `ScanSweeperService`). An in-process
 * scan starts within {@link INLINE_SCAN_MAX_WAIT_MS} of the commit or is handed to the queue, and its DNS lookups are
 * bounded by DNS_TIMEOUT_MS each, so a live in-process scan normally ends long before the sweeper sees its message;
 * if one ever runs past it, the worker's scan and it race, and the verdict statement lets exactly one of them write
 * (libs/db `saveVerdictsMany` claims only a PENDING message, one write per message in a batch too).
 */
export const SCAN_SWEEP_GRACE_MS = 30_000;

/** A stored copy not started in process within this long after its commit goes to the scan queue instead. */
export const INLINE_SCAN_MAX_WAIT_MS = 5_000;

/** How long a graceful shutdown waits for the in-process scans still running; the rest stay PENDING for the sweeper. */
export const INLINE_SCAN_DRAIN_MS = 10_000;

export interface InlineScanSettings {
  /** Off: every copy goes to the scan queue (reason `off`). */
  enabled: boolean;
  /** Scans running at once. */
  concurrency: number;
  /** Copies waiting for a free slot; one more goes to the queue (reason `saturated`). */
  maxWaiting: number;
  /** Raw bytes held by the waiting and running scans; a copy that would pass it goes to the queue (`saturated`). */
  maxBytes: number;
  /** A waiting copy not started within this long goes to the queue (`waited`); below {@link SCAN_SWEEP_GRACE_MS}. */
  maxWaitMs?: number;
}

/** A message just committed by this process, with its stored bytes. */
export interface StoredCopy {
  target: ScanTarget;
  raw: Buffer;
  /**
   * Stored with its first scan attempt counted (libs/db `IncomingMessage.scanAttemptCounted`): the in-process scan
   * counts none, and a hand-off to the queue that no scan here used releases it (the worker counts its own).
   */
  attemptCounted?: boolean;
}

/**
 * Why a copy was handed to the scan queue instead of an in-process scan: inline scanning is off, the in-process
 * scanner was full, the copy waited too long for a slot, its in-process attempt failed with an error that a later
 * attempt may not have (DNS temperror, PostgreSQL), or the process was shutting down.
 */
export type InlineScanHandoffReason = 'off' | 'saturated' | 'waited' | 'retry' | 'closing';
const HANDOFF_REASONS: ReadonlySet<string> = new Set<InlineScanHandoffReason>(['off', 'saturated', 'waited', 'retry', 'closing']);

/** Puts a copy on the scan queue (the scan job of DESIGN.md §3). Its failure is logged; the sweeper covers it. */
export type InlineScanHandoff = (copy: StoredCopy, reason: InlineScanHandoffReason) => Promise<void>;

interface Waiting {
  copy: StoredCopy;
  since: number;
}

const INLINE_SCAN_METRICS = {
  handoffs: counter('mailwarden_inline_scan_handoffs_total', 'Stored copies sent to the scan queue instead of (or after) an in-process scan, by why', ['reason']),
  backlog: gauge('mailwarden_inline_scan_backlog', 'Stored copies waiting for an in-process scan'),
  running: gauge('mailwarden_inline_scans_running', 'In-process scans running'),
};

/**
 * The scan of a stored copy in the process that stored it, right after the commit (issue 20): the same
 * {@link ScanMessageService} as the scan workers (`scanStored`, the bytes in hand instead of read back), with a bounded
 * concurrency and a bounded in-memory backlog (count and bytes). What it cannot take goes to the scan queue through
 * `handoff`, so the queue stays the crash-safe path: a copy whose process dies before its verdict is still PENDING
 * (its "message_scan" row), and the sweeper queues it. Never throws to the caller, never makes it wait.
 */
export class InlineScans {
  private readonly logger = new Logger(InlineScans.name);
  private readonly waiting: Waiting[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private running = 0;
  private heldBytes = 0;
  private closing = false;
  private readonly maxWaitMs: number;
  private readonly handoffs;

  constructor(
    private readonly scans: Pick<ScanMessageService, 'scanStored' | 'releaseCountedAttempt'>,
    private readonly settings: InlineScanSettings,
    private readonly handoff: InlineScanHandoff,
    registry: Registry = new Registry(),
  ) {
    this.maxWaitMs = settings.maxWaitMs ?? INLINE_SCAN_MAX_WAIT_MS;
    const { handoffs, backlog, running } = metricsIn(registry, INLINE_SCAN_METRICS);
    this.handoffs = handoffs;
    // Read when Prometheus scrapes: nothing on the message path.
    (backlog as unknown as { collect: () => void }).collect = () => backlog.set(this.waiting.length);
    (running as unknown as { collect: () => void }).collect = () => running.set(this.running);
  }

  /** Copies waiting and running, and the raw bytes they hold (tests, shutdown logs). */
  get load(): { waiting: number; running: number; bytes: number } {
    return { waiting: this.waiting.length, running: this.running, bytes: this.heldBytes };
  }

  /**
   * Takes a committed copy. Its scan starts on a later turn of the event loop, so the SMTP reply that follows the
   * commit is written first and never waits for it.
   */
  submit(copy: StoredCopy): void {
    if (!this.settings.enabled) {
      return this.handOff(copy, 'off');
    }
    if (this.closing) {
      return this.handOff(copy, 'closing');
    }
    const size = copy.raw.byteLength;
    const roomForBytes = this.heldBytes + size <= this.settings.maxBytes;
    if (roomForBytes && this.running < this.settings.concurrency && this.waiting.length === 0) {
      this.heldBytes += size;
      this.start(copy);
    } else if (roomForBytes && this.waiting.length < this.settings.maxWaiting) {
      this.heldBytes += size;
      this.waiting.push({ copy, since: Date.now() });
    } else {
      this.handOff(copy, 'saturated');
    }
  }

  /**
   * Graceful shutdown, after the SMTP front has drained (no copy arrives any more): the waiting copies go to the scan
   * queue, the running scans get up to `timeoutMs` to write their verdicts. One still running after that keeps its
   * message PENDING, with its attempt counted: the sweeper queues it. Nothing is lost either way.
   */
  async close(timeoutMs = INLINE_SCAN_DRAIN_MS): Promise<{ handedOff: number; unfinished: number }> {
    this.closing = true;
    const handedOff = this.waiting.length;
    for (const { copy } of this.waiting.splice(0)) {
      this.heldBytes -= copy.raw.byteLength;
      this.handOff(copy, 'closing');
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
    return { handedOff, unfinished: this.running };
  }

  private start(copy: StoredCopy): void {
    this.running++;
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.scans.scanStored(copy.target, copy.raw, { attemptCounted: copy.attemptCounted }))
      .then(
        () => undefined,
        (error: Error) => {
          // The attempt is counted and its error recorded (ScanMessageService): the queue's retries take it from here.
          this.logger.warn({ event: 'scan.inline_retry', messageId: copy.target.id, error: error.message });
          this.handOff(copy, 'retry');
        },
      )
      .finally(() => {
        this.running--;
        this.heldBytes -= copy.raw.byteLength;
        this.inFlight.delete(work);
        this.next();
      });
    this.inFlight.add(work);
  }

  private next(): void {
    while (this.running < this.settings.concurrency && this.waiting.length > 0) {
      const { copy, since } = this.waiting.shift()!;
      if (this.closing || Date.now() - since > this.maxWaitMs) {
        this.heldBytes -= copy.raw.byteLength;
        this.handOff(copy, this.closing ? 'closing' : 'waited');
      } else {
        this.start(copy);
      }
    }
  }

  private handOff(copy: StoredCopy, reason: InlineScanHandoffReason): void {
    this.handoffs.inc({ reason: boundedLabel(reason, HANDOFF_REASONS) });
    // An attempt counted with the store that no scan here used (after `retry` it was used): the worker counts its own.
    // Should this fail or the process die first, the copy keeps one attempt too many (MAX_SCAN_ATTEMPTS - 1 left).
    const released =
      copy.attemptCounted && reason !== 'retry'
        ? this.scans.releaseCountedAttempt(copy.target.id).catch((error: Error) => this.logger.warn({ event: 'scan.attempt_release_failed', messageId: copy.target.id, error: error.message }))
        : Promise.resolve();
    const work = Promise.all([released, this.handoff(copy, reason)])
      .then(() => undefined)
      .catch((error: Error) => this.logger.warn({ event: 'scan.handoff_failed', messageId: copy.target.id, reason, error: error.message }))
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }
}
