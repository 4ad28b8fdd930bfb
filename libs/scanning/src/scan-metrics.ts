import { Registry } from 'prom-client';
import { MESSAGE_SOURCE_LABELS as SOURCES } from '@mailwarden/db';
import { boundedLabel, counter, histogram, metricsIn } from '@mailwarden/observability';
import { SENDER_CHECK_ORDER } from '@mailwarden/policy';
import type { EvaluatedVerdict } from './evaluate-message';

const ACTIONS: ReadonlySet<string> = new Set(['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT']);
const CHECKS: ReadonlySet<string> = new Set(SENDER_CHECK_ORDER);

/** How a scan ended: recorded (scanned, skipped), or not (retry: a transient error, failed: given up, temperror: 451 at DATA). */
export type ScanMetricOutcome = 'scanned' | 'skipped' | 'already-scanned' | 'retry' | 'failed' | 'temperror' | 'error';

/** Where a stored message's scan attempt ran: in the process that stored it, right after the commit, or from the scan queue. */
export type ScanRunner = 'inline' | 'queue';
const RUNNERS: ReadonlySet<string> = new Set<ScanRunner>(['inline', 'queue']);

const SCAN_METRICS = {
  duration: histogram('mailwarden_scan_duration_seconds', 'Time to evaluate one message: sender checks (DNS included) and policy', ['source']),
  scans: counter('mailwarden_scans_total', 'Scans by how they ended', ['source', 'outcome']),
  started: counter('mailwarden_scan_attempts_total', 'Scan attempts of stored messages started, by where they ran (inline: in the ingest process after its commit; queue: a scan job)', ['source', 'where']),
  verdicts: counter('mailwarden_verdicts_total', 'Recipient verdicts committed, by decided and applied action (applied none: monitor-only, nothing applied)', [
    'source',
    'decided',
    'applied',
  ]),
  failedChecks: counter('mailwarden_verdict_failed_checks_total', 'Committed recipient verdicts whose first failing sender check was this one', ['source', 'check']),
};

/**
 * The scan figures of both scanning paths (the scan worker's journal and stored gateway copies, the gateway's checks
 * before its DATA reply), one definition for both: scan duration, scans by outcome, and the verdicts recorded (by
 * decided and applied action, and by the check that failed). Labels are fixed sets (source, action, check name).
 */
export class ScanMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, SCAN_METRICS);
  }

  /** The time of one evaluation; call the returned function when it is done. */
  startEvaluation(source: string): () => void {
    return this.metrics.duration.startTimer({ source: boundedLabel(source, SOURCES) });
  }

  /** A counted scan attempt of a stored (PENDING) message begins. */
  scanStarted(source: string, where: ScanRunner): void {
    this.metrics.started.inc({ source: boundedLabel(source, SOURCES), where: boundedLabel(where, RUNNERS) });
  }

  scanEnded(source: string, outcome: ScanMetricOutcome): void {
    this.metrics.scans.inc({ source: boundedLabel(source, SOURCES), outcome });
  }

  /** After the commit of the verdicts (never for a rolled-back or redelivered scan). */
  verdictsCommitted(source: string, verdicts: readonly Pick<EvaluatedVerdict, 'decidedAction' | 'appliedAction' | 'failedCheck'>[]): void {
    const sourceLabel = boundedLabel(source, SOURCES);
    for (const verdict of verdicts) {
      this.metrics.verdicts.inc({ source: sourceLabel, decided: boundedLabel(verdict.decidedAction, ACTIONS), applied: boundedLabel(verdict.appliedAction, ACTIONS) });
      if (verdict.failedCheck) {
        this.metrics.failedChecks.inc({ source: sourceLabel, check: boundedLabel(verdict.failedCheck, CHECKS) });
      }
    }
  }
}
