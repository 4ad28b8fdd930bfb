import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ExportDestination, ExportRepository } from '@mailwarden/db';
import type { EventRenderer } from './event-renderer';
import type { MappedEvent } from './ocsf/ocsf-mappers';
import type { ExportSink } from './sinks/export-sink';

/** What a destination wants of the events (per destination, set through the admin API). */
export function passesFilter(destination: Pick<ExportDestination, 'classUids' | 'minSeverityId' | 'actionableOnly'>, mapped: MappedEvent): boolean {
  if (destination.classUids.length > 0 && !destination.classUids.includes(mapped.event.class_uid)) {
    return false;
  }
  if (mapped.event.severity_id < destination.minSeverityId) {
    return false;
  }
  return !destination.actionableOnly || mapped.actionable;
}

export interface ExportRunOptions {
  /** Outbox rows per page (one batch to the sink per page). */
  batchSize: number;
  /** A run stops after this long so other destinations get the worker (the next job continues). */
  runBudgetMs: number;
  /** The destination is held this long per page; a worker that dies lets go after it. */
  leaseMs: number;
  /** Back-off after a failure: base × 2^(failures−1), at most max. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_EXPORT_RUN_OPTIONS: ExportRunOptions = { batchSize: 500, runBudgetMs: 20_000, leaseMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 300_000 };

export type ExportRunResult =
  | { status: 'skipped' }
  | { status: 'done'; rows: number; sent: number; filtered: number; batches: number }
  | { status: 'failed'; error: string; retryAt: Date; sent: number };

export type SinkFactory = (destination: ExportDestination) => ExportSink;

/**
 * One run of one destination: take its lease, then page through the outbox after its cursor, render, filter and
 * send each page as one batch, and move the cursor after the receiver took it. A failure keeps the cursor where it
 * is and backs off. A crash between a send and the cursor update sends that page again: the same events with the
 * same metadata.uid (at-least-once).
 */
export class ExportRunner {
  private readonly logger = new Logger(ExportRunner.name);
  /** Identifies this process's leases (each run adds its number). */
  readonly owner = `${process.pid}-${randomUUID()}`;

  constructor(
    private readonly repository: ExportRepository,
    private readonly renderer: EventRenderer,
    private readonly sinkFor: SinkFactory,
    private readonly options: ExportRunOptions = DEFAULT_EXPORT_RUN_OPTIONS,
    private readonly onBatch?: (destination: ExportDestination, events: number) => void,
  ) {}

  private runs = 0;

  async run(destinationId: string): Promise<ExportRunResult> {
    // Each run holds the lease under its own name: two runs of one destination in one process exclude each other too.
    const owner = `${this.owner}#${++this.runs}`;
    let destination = await this.repository.claim(destinationId, owner, this.options.leaseMs);
    if (!destination) {
      return { status: 'skipped' };
    }
    const started = Date.now();
    const totals = { rows: 0, sent: 0, filtered: 0, batches: 0 };
    try {
      const sink = this.sinkFor(destination);
      for (;;) {
        const page = await this.repository.readOutbox(destination, this.options.batchSize);
        const rendered = await this.renderer.render(page.rows);
        const events = rendered.flatMap((entry) => entry.events);
        const wanted = events.filter((mapped) => passesFilter(destination!, mapped)).map((mapped) => mapped.event);
        if (wanted.length > 0) {
          await sink.send(wanted);
          this.onBatch?.(destination, wanted.length);
        }
        const moved = page.next.txId !== destination.cursorTxId || page.next.id !== destination.cursorId;
        if (moved || wanted.length > 0) {
          const counts = { sent: wanted.length, filtered: events.length - wanted.length, batches: wanted.length > 0 ? 1 : 0 };
          if (!(await this.repository.advance(destination.id, owner, page.next, counts, this.options.leaseMs))) {
            this.logger.warn({ event: 'export.lease_lost', destinationId });
            return { status: 'done', ...totals };
          }
          totals.rows += page.rows.length;
          totals.sent += counts.sent;
          totals.filtered += counts.filtered;
          totals.batches += counts.batches;
          destination = { ...destination, cursorTxId: page.next.txId, cursorId: page.next.id, consecutiveFailures: 0 };
        }
        if (page.rows.length < this.options.batchSize || Date.now() - started > this.options.runBudgetMs) {
          break;
        }
      }
      await this.repository.release(destination.id, owner);
      return { status: 'done', ...totals };
    } catch (error) {
      const failures = destination.consecutiveFailures + 1;
      const delay = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** Math.min(failures - 1, 20));
      const retryAt = new Date(Date.now() + delay);
      const message = (error as Error).message;
      await this.repository.recordFailure(destination.id, owner, message, retryAt);
      this.logger.warn({ event: 'export.batch_failed', destinationId, kind: destination.kind, error: message, consecutiveFailures: failures, retryInMs: delay });
      return { status: 'failed', error: message, retryAt, sent: totals.sent };
    }
  }
}
