import type { DownstreamRoute } from '@mailwarden/delivery';

/** Retry and routing settings of the delivery workers that are not environment settings (tests shorten them). */
export interface DeliveryTuning {
  /** First wait after a temporary downstream failure; doubles per attempt (exponential back-off). */
  initialRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** Give up (copy FAILED, DSN to the sender) once a message has waited this long: Postfix's 5 days. */
  retryWindowMs: number;
  /** Connection, greeting and socket timeout towards a downstream. */
  timeoutMs: number;
  /** Connections kept open to one downstream route (reused between deliveries). */
  connectionsPerRoute: number;
  /** An open connection unused for this long is closed. */
  idleConnectionMs: number;
  concurrency: number;
  /** Where DSNs go; null: the sender domain's MX hosts (RFC 5321 5.1). */
  dsnRoute: DownstreamRoute | null;
  /** A copy QUEUED or DEFERRED without a job for this long is enqueued again by the sweeper. */
  sweepGraceMs: number;
  sweepEveryMs: number;
  /**
   * How long a delivery run holds the copies it claimed (DeliveryRepository.claimCopies) before another run may take
   * them: longer than any run lasts (each downstream step is bounded by `timeoutMs`), since a run that outlives it
   * could see its copies sent a second time; a run that dies leaves its copies to the sweeper once it has passed.
   */
  claimLeaseMs: number;
  /**
   * A stored message waiting this long for an in-process delivery slot goes to the delivery queue instead. Below
   * `sweepGraceMs`, so the sweeper does not queue what still waits in memory (if it did, the claim keeps the copy from
   * being sent twice). Longer than a scan's bound (libs/scanning): in a SCANNER_ROLE=all process the queue's worker
   * shares the in-process deliveries' connections, so handing a message over adds Redis and PostgreSQL work, not speed.
   */
  inlineMaxWaitMs: number;
}

export const DEFAULT_DELIVERY_TUNING: DeliveryTuning = {
  initialRetryDelayMs: 60_000,
  maxRetryDelayMs: 3_600_000,
  retryWindowMs: 5 * 86_400_000,
  timeoutMs: 30_000,
  connectionsPerRoute: 4,
  idleConnectionMs: 20_000,
  concurrency: 8,
  dsnRoute: null,
  sweepGraceMs: 120_000,
  sweepEveryMs: 30_000,
  claimLeaseMs: 600_000,
  inlineMaxWaitMs: 30_000,
};

export const DELIVERY_TUNING = Symbol('DELIVERY_TUNING');
