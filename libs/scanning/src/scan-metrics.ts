import { Registry } from 'prom-client';
import { boundedLabel, counterIn, histogramIn } from '@mailwarden/observability';
import { SENDER_CHECK_ORDER } from '@mailwarden/policy';
import type { EvaluatedVerdict } from './evaluate-message';

const SOURCES: ReadonlySet<string> = new Set(['JOURNAL', 'GATEWAY', 'MAILFLOW']);
const ACTIONS: ReadonlySet<string> = new Set(['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT']);
const CHECKS: ReadonlySet<string> = new Set(SENDER_CHECK_ORDER);

/** How a scan ended: recorded (scanned, skipped), or not (retry: a transient error, failed: given up, temperror: 451 at DATA). */
export type ScanMetricOutcome = 'scanned' | 'skipped' | 'already-scanned' | 'retry' | 'failed' | 'temperror' | 'error';

/** Where a stored message's scan attempt ran: in the process that stored it, right after the commit, or from the scan queue. */
export type ScanRunner = 'inline' | 'queue';
const RUNNERS: ReadonlySet<string> = new Set<ScanRunner>(['inline', 'queue']);

/**
 * The scan figures of both scanning paths (the scan worker's journal and stored gateway copies, the gateway's checks
 * before its DATA reply), one definition for both: scan duration, scans by outcome, and the verdicts recorded (by
 * decided and applied action, and by the check that failed). Labels are fixed sets (source, action, check name).
 */
export class ScanMetrics {
  private readonly duration;
  private readonly scans;
  private readonly started;
  private readonly verdicts;
  private readonly failedChecks;

  constructor(registry: Registry = new Registry()) {
    this.duration = histogramIn(registry, {
      name: 'mailwarden_scan_duration_seconds',
      help: 'Time to evaluate one message: sender checks (DNS included) and policy',
      labelNames: ['source'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.scans = counterIn(registry, { name: 'mailwarden_scans_total', help: 'Scans by how they ended', labelNames: ['source', 'outcome'] as const });
    this.started = counterIn(registry, {
      name: 'mailwarden_scan_attempts_total',
      help: 'Scan attempts of stored messages started, by where they ran (inline: in the ingest process after its commit; queue: a scan job)',
      labelNames: ['source', 'where'] as const,
    });
    this.verdicts = counterIn(registry, {
      name: 'mailwarden_verdicts_total',
      help: 'Recipient verdicts committed, by decided and applied action (applied none: monitor-only, nothing applied)',
      labelNames: ['source', 'decided', 'applied'] as const,
    });
    this.failedChecks = counterIn(registry, {
      name: 'mailwarden_verdict_failed_checks_total',
      help: 'Committed recipient verdicts whose first failing sender check was this one',
      labelNames: ['source', 'check'] as const,
    });
  }

  /** The time of one evaluation; call the returned function when it is done. */
  startEvaluation(source: string): () => void {
    return this.duration.startTimer({ source: boundedLabel(source, SOURCES) });
  }

  /** A counted scan attempt of a stored (PENDING) message begins. */
  scanStarted(source: string, where: ScanRunner): void {
    this.started.inc({ source: boundedLabel(source, SOURCES), where: boundedLabel(where, RUNNERS) });
  }

  scanEnded(source: string, outcome: ScanMetricOutcome): void {
    this.scans.inc({ source: boundedLabel(source, SOURCES), outcome });
  }

  /** After the commit of the verdicts (never for a rolled-back or redelivered scan). */
  verdictsCommitted(source: string, verdicts: readonly Pick<EvaluatedVerdict, 'decidedAction' | 'appliedAction' | 'failedCheck'>[]): void {
    const sourceLabel = boundedLabel(source, SOURCES);
    for (const verdict of verdicts) {
      this.verdicts.inc({ source: sourceLabel, decided: boundedLabel(verdict.decidedAction, ACTIONS), applied: boundedLabel(verdict.appliedAction, ACTIONS) });
      if (verdict.failedCheck) {
        this.failedChecks.inc({ source: sourceLabel, check: boundedLabel(verdict.failedCheck, CHECKS) });
      }
    }
  }
}
