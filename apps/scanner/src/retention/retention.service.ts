import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { drainBatches, PARTITIONED_TABLES, RetentionRepository, type PartitionedTable, type RetentionPace, type SqlRunner, type TenantCutoffs, type TenantPurgeCounts } from '@mailwarden/db';
import { resolveRetention, retentionCeiling, type EffectiveRetention, type RetentionSettingsPatch } from '@mailwarden/policy';
import { RepeatingService, type Repetition } from '../common/repeating.service';

const DAY_MS = 86_400_000;
const RUN_EVERY_MS = 10 * 60_000;

export interface RetentionRunOptions extends RetentionPace {
  /** Batches per tenant and kind of data in one run; the rest waits for the next run. */
  maxBatches: number;
  /** Day partitions created ahead of today. */
  daysAhead: number;
  /** Called after each batch (tests stop a run there, as a crash would). */
  afterBatch?: (run: SqlRunner) => Promise<void>;
}

export interface RetentionRunReport {
  createdPartitions: string[];
  droppedPartitions: string[];
  tenants: number;
  messages: number;
  rawMessages: number;
  verdicts: number;
  recipientEvents: number;
  quarantineExpired: number;
  auditEvents: number;
  orphans: number;
  /** False when a batch limit stopped some purge: the next run goes on. */
  complete: boolean;
}

const DEFAULT_OPTIONS = { maxBatches: 200, daysAhead: 7 };

/**
 * Enforces every tenant's retention (issue 20) every ten minutes in the scan workers, one process at a time (an
 * advisory lock): creates the day partitions ahead, expires quarantine items (audited as expired), purges tenants
 * whose windows are shorter than the longest by bounded batches, trims audit logs, and drops the partitions that
 * every tenant's window has passed.
 */
@Injectable()
export class RetentionService extends RepeatingService {
  constructor(
    private readonly retention: RetentionRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<ScannerConfig, 'EMERGENCY_INBOX_DAYS' | 'RETENTION_PURGE_BATCH' | 'RETENTION_PURGE_RATE'>,
  ) {
    super();
  }

  protected repetition(): Repetition {
    return { everyMs: RUN_EVERY_MS, failedEvent: 'retention.run_failed', atStart: true };
  }

  protected repeat(): Promise<RetentionRunReport | null> {
    return this.run();
  }

  /** Every account's effective windows (its RETENTION policy under its partner's ceiling), by account id. */
  async windows(): Promise<Map<string, EffectiveRetention> & { partners: Map<string, RetentionSettingsPatch | null> }> {
    const { accounts, policies } = await this.retention.tenants();
    const accountSettings = new Map(policies.filter((row) => row.scope === 'ACCOUNT').map((row) => [row.accountId, row.settings as RetentionSettingsPatch]));
    const partners = new Map(policies.filter((row) => row.scope === 'PARTNER').map((row) => [row.partnerId!, row.settings as RetentionSettingsPatch]));
    const windows = new Map(
      accounts.map((account) => [account.id, resolveRetention(accountSettings.get(account.id), account.partnerId ? partners.get(account.partnerId) : null, this.config.EMERGENCY_INBOX_DAYS)]),
    );
    return Object.assign(windows, { partners });
  }

  /** One retention run; null when another process is running one. */
  async run(now = new Date(), options: Partial<RetentionRunOptions> = {}): Promise<RetentionRunReport | null> {
    const settings = { ...DEFAULT_OPTIONS, batchSize: this.config.RETENTION_PURGE_BATCH, rowsPerSecond: this.config.RETENTION_PURGE_RATE, ...options };
    const windows = await this.windows();
    const report = await this.retention.withLock((run) => this.runLocked(run, now, windows, settings));
    if (report) {
      this.logger.log({ event: 'retention.run', ...report, createdPartitions: report.createdPartitions.length, droppedPartitions: report.droppedPartitions });
    }
    return report;
  }

  private async runLocked(run: SqlRunner, now: Date, windows: Awaited<ReturnType<RetentionService['windows']>>, options: RetentionRunOptions): Promise<RetentionRunReport> {
    const report: RetentionRunReport = {
      createdPartitions: await this.retention.ensurePartitions(run, now, options.daysAhead + 1),
      droppedPartitions: [],
      tenants: windows.size,
      messages: 0,
      rawMessages: 0,
      verdicts: 0,
      recipientEvents: 0,
      quarantineExpired: 0,
      auditEvents: 0,
      orphans: 0,
      complete: true,
    };
    const before = (days: number): Date => new Date(now.getTime() - days * DAY_MS);
    // Until every loop below is done with a batch smaller than the limit, or hits the batch cap; paced by the settings.
    const afterBatch = options.afterBatch;
    const drain = async (batch: () => Promise<number>): Promise<void> => {
      const { complete } = await drainBatches(batch, options, { maxBatches: options.maxBatches, afterBatch: afterBatch && (() => afterBatch(run)) });
      report.complete &&= complete;
    };
    const add = (counts: TenantPurgeCounts): number => {
      report.messages += counts.messages;
      report.rawMessages += counts.rawMessages;
      report.verdicts += counts.verdicts;
      report.recipientEvents += counts.recipientEvents;
      return counts.batch;
    };

    const all = [...windows.values()];
    const longestRaw = Math.max(0, ...all.map((window) => window.rawMessageDays));
    const longestHistory = Math.max(0, ...all.map((window) => window.historyDays));
    for (const [accountId, window] of windows) {
      const cutoffs: TenantCutoffs = {
        accountId,
        history: before(window.historyDays),
        raw: before(window.rawMessageDays),
        quarantine: before(window.quarantineDays),
        auditLog: before(window.auditLogDays),
      };
      // Quarantine first, so an item is audited as expired before its message can go.
      await drain(async () => {
        const expired = await this.retention.expireQuarantine(run, cutoffs, now, options.batchSize);
        report.quarantineExpired += expired;
        return expired;
      });
      if (window.rawMessageDays < longestRaw) {
        await drain(async () => add(await this.retention.purgeTenantMessages(run, cutoffs, options.batchSize)));
      }
      // Messages kept for their bytes past the history window lose their verdicts and events.
      if (window.historyDays < window.rawMessageDays) {
        await drain(async () => add(await this.retention.purgeTenantHistory(run, cutoffs, options.batchSize)));
      }
      await drain(async () => {
        const removed = await this.retention.purgeAuditLog(run, { accountId }, cutoffs.auditLog, options.batchSize);
        report.auditEvents += removed;
        return removed;
      });
    }
    // A partner's own audit events (no account) are kept for its ceiling.
    for (const [partnerId, settings] of windows.partners) {
      await drain(async () => {
        const removed = await this.retention.purgeAuditLog(run, { partnerId }, before(retentionCeiling(settings).auditLogDays), options.batchSize);
        report.auditEvents += removed;
        return removed;
      });
    }

    if (windows.size > 0) {
      // The history tables first, then the messages and their bytes (no foreign keys between them: any order is
      // safe, this one never leaves a verdict whose message is gone while the message's day is still there).
      const order = (Object.keys(PARTITIONED_TABLES) as PartitionedTable[]).sort((a, b) => (PARTITIONED_TABLES[a] === 'history' ? -1 : 0) - (PARTITIONED_TABLES[b] === 'history' ? -1 : 0));
      for (const table of order) {
        const cutoff = before(PARTITIONED_TABLES[table] === 'raw' ? longestRaw : longestHistory);
        report.droppedPartitions.push(...(await this.retention.dropPartitionsBefore(run, table, cutoff)));
      }
      await drain(async () => {
        const removed = await this.retention.purgeOrphans(run, before(longestRaw), before(longestHistory), options.batchSize);
        report.orphans += removed;
        return removed;
      });
    }
    return report;
  }
}
