import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { ScanTarget } from '@mailwarden/db';
import { INLINE_RUN_DRAIN_MS, INLINE_RUN_MAX_WAIT_MS, InlineRuns, type InlineHandoff, type InlineHandoffReason, type InlineRunSettings } from '@mailwarden/queue';
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
export const INLINE_SCAN_MAX_WAIT_MS = INLINE_RUN_MAX_WAIT_MS;

/** How long a graceful shutdown waits for the in-process scans still running; the rest stay PENDING for the sweeper. */
export const INLINE_SCAN_DRAIN_MS = INLINE_RUN_DRAIN_MS;

/** Below {@link SCAN_SWEEP_GRACE_MS}: see libs/queue `InlineRunSettings`. */
export type InlineScanSettings = InlineRunSettings;

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

/** Why a copy went to the scan queue (libs/queue `InlineHandoffReason`). */
export type InlineScanHandoffReason = InlineHandoffReason;

/** Puts a copy on the scan queue (the scan job of DESIGN.md §3). Its failure is logged; the sweeper covers it. */
export type InlineScanHandoff = InlineHandoff<StoredCopy>;

/**
 * The scan of a stored copy in the process that stored it, right after the commit (issue 20): the same
 * {@link ScanMessageService} as the scan workers (`scanStored`, the bytes in hand instead of read back), run by
 * libs/queue `InlineRuns` (bounded concurrency and backlog, count and bytes). What it cannot take goes to the scan
 * queue through `handoff`, so the queue stays the crash-safe path: a copy whose process dies before its verdict is
 * still PENDING (its "message_scan" row), and the sweeper queues it. A failed attempt is counted and its error
 * recorded (ScanMessageService) before the queue's retries take it. Never throws to the caller, never makes it wait.
 */
export class InlineScans extends InlineRuns<StoredCopy> {
  constructor(
    scans: Pick<ScanMessageService, 'scanStored' | 'releaseCountedAttempt'>,
    settings: InlineScanSettings,
    handoff: InlineScanHandoff,
    registry: Registry = new Registry(),
    logger: Pick<Logger, 'warn'> = new Logger(InlineScans.name),
  ) {
    super(
      {
        kind: 'scan',
        run: (copy) => scans.scanStored(copy.target, copy.raw, { attemptCounted: copy.attemptCounted }),
        bytesOf: (copy) => copy.raw.byteLength,
        idOf: (copy) => copy.target.id,
        handoff: (copy, reason) => {
          // An attempt counted with the store that no scan here used (after `retry` it was used): the worker counts its
          // own. Should this fail or the process die first, the copy keeps one attempt too many (MAX_SCAN_ATTEMPTS - 1 left).
          const released =
            copy.attemptCounted && reason !== 'retry'
              ? scans.releaseCountedAttempt(copy.target.id).catch((error: Error) => logger.warn({ event: 'scan.attempt_release_failed', messageId: copy.target.id, error: error.message }))
              : Promise.resolve();
          return Promise.all([released, handoff(copy, reason)]).then(() => undefined);
        },
        metrics: { handoffs: 'mailwarden_inline_scan_handoffs_total', backlog: 'mailwarden_inline_scan_backlog', running: 'mailwarden_inline_scans_running' },
      },
      settings,
      registry,
    );
  }
}
