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
   * The lease of a delivery run's claim on its copies (DeliveryRepository.claimCopies, and the gateway's store
   * statement): how long after a process stops renewing them (it died, or stalled) another run may take them. The
   * process renews the claims it holds every `claimRenewEveryMs` (DeliveryClaims, one statement), so a run may last
   * longer than the lease; a process that died leaves its copies to the sweeper once this has passed. 2 minutes, the
   * sweeper's grace: a gateway message whose process died after its 250 is delivered about as soon as one whose enqueue
   * was lost. A run sends a copy only while more than a quarter of the lease is left of its claim (DeliveryClaim.holds).
   * Would be the setting DELIVERY_CLAIM_LEASE_MS if operators need to change it.
   */
  claimLeaseMs: number;
  /**
   * How often a process renews the claims it holds (one statement for all): a quarter of the lease (the module's
   * default when only the lease is given), so a claim stays above the quarter a run needs to send (DeliveryClaim.holds)
   * through a missed renewal (a run stops sending 3 intervals after the last one).
   */
  claimRenewEveryMs: number;
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
  claimLeaseMs: 120_000,
  claimRenewEveryMs: 30_000,
  inlineMaxWaitMs: 30_000,
};

export const DELIVERY_TUNING = Symbol('DELIVERY_TUNING');
