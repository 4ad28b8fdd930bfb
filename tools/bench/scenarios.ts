import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchOptions } from './args';
import { AppLauncher, type BaselineKind } from './apps';
import { GATEWAY_DOMAIN, JOURNAL_RECIPIENT_DOMAIN, type BenchEnvironment, type BenchTenant } from './bench-env';
import { directJobs, journalJobs, ORIGIN_IP, SENDER, SENDER_DOMAIN } from './messages';
import { runRspamdChecks } from './rspamd-load';
import { runLoad, type LoadResult } from './load';
import { cpuPerMessage, cpuSnapshot, readCpuMs, stopAll, type BenchChild } from './processes';
import type { SmtpJob } from './smtp-client';
import { summarize, type LatencySummary } from './stats';
import { statementCosts, statementSnapshot, statementTotals, type StatementCost, type StatementSnapshot } from './pg-statements';
import type { CopyTimeline } from './tail';

/**
 * Copies sent through the same processes before the measured ones (their cold start: JIT, caches, new PostgreSQL
 * sessions; 250 → verdict of the warm-up is reported apart as `warmupToVerdictMs`), and each measured copy's
 * timeline with the ingest's /metrics (the `tail` scenario).
 */
export interface EndToEndProbe {
  warmupMessages?: number;
  observe?: (copies: CopyTimeline[], ingestMetrics: string | null) => void;
}

/** One measured run of one system in one scenario. */
export interface RunRecord {
  scenario: string;
  system: string;
  round: number;
  /** The scenario's throughput figure (SMTP 250s per second, or end-to-end for the pipeline). */
  msgsPerSec: number;
  accepted: number;
  sent: number;
  failures: Record<string, number>;
  /** SMTP transaction latency, MAIL FROM to the reply to the end of DATA. */
  smtpLatencyMs: LatencySummary;
  smtpMsgsPerSec: number;
  /** Peak RSS (VmHWM) of each process of the run, MB. */
  rssMb: Record<string, number | null>;
  /** CPU time each process spent per accepted message during the run (start-up excluded), ms; "postgres" sums the backends of the bench database. */
  cpuMsPerMessage: Record<string, number | null>;
  /** Peak RSS of each process when it was ready, before any load, MB. */
  readyRssMb: Record<string, number | null>;
  /** `--smtp-processes` above 1: the CPU per message of each process of an app (`journal-ingest#1`…), whose sum is the app's. */
  cpuMsPerMessageByProcess?: Record<string, number | null>;
  postgresTransactionsPerMessage: number | null;
  /** Rows each table of the bench database got per message (inserted / updated, HOT share / deleted), from pg_stat_user_tables: where PostgreSQL's work goes. */
  postgresRowsPerMessage?: Record<string, { inserted: number; updated: number; hotUpdated: number; deleted: number }>;
  /** The costliest statements of the run per message (pg_stat_statements), when the server preloads it. */
  postgresStatements?: StatementCost[];
  /** WAL the server wrote per message over the run (pg_stat_wal: the whole server, so only with pg_stat_statements, i.e. a private server). */
  postgresWalBytesPerMessage?: number;
  /** Redis commands per message over the run, by name (INFO commandstats: the whole server, so meaningful on a Redis of the bench's own). */
  redisCommandsPerMessage?: Record<string, number>;
  extra?: Record<string, unknown>;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ProcessFigures {
  /** Committed and rolled-back PostgreSQL transactions in the bench database per message (each autocommit statement is one). */
  postgresTransactionsPerMessage: number | null;
  rssMb: Record<string, number | null>;
  readyRssMb: Record<string, number | null>;
  cpuMsPerMessage: Record<string, number | null>;
  cpuMsPerMessageByProcess?: Record<string, number | null>;
  postgresRowsPerMessage?: RunRecord['postgresRowsPerMessage'];
  postgresStatements?: StatementCost[];
  postgresWalBytesPerMessage?: number;
  redisCommandsPerMessage?: Record<string, number>;
}

/** CPU use of this run's processes and of the PostgreSQL backends serving the bench database, before a load. */
interface CpuBefore {
  children: Record<string, number | null>;
  postgres: Map<number, number>;
  transactions: number;
  tables: Map<string, TableCounts>;
  statements?: StatementSnapshot;
  walBytes?: number;
  redisCommands: Map<string, number>;
}

interface TableCounts {
  inserted: number;
  updated: number;
  hotUpdated: number;
  deleted: number;
}

/**
 * The /metrics of every process of an app, one after the other (`--smtp-processes`: the readers below add up the
 * samples of the same series, so the figures are the app's, summed over its processes). Null when none is given or
 * one cannot be read.
 */
async function appMetrics(metricsUrls: readonly string[]): Promise<string | null> {
  if (metricsUrls.length === 0) {
    return null;
  }
  try {
    return (await Promise.all(metricsUrls.map(async (url) => (await fetch(url)).text()))).join('\n');
  } catch {
    return null;
  }
}

/**
 * Where an app's in-process work ran (issue 20), read from its /metrics: the items it handed to the queue by reason
 * (`handoffs`: mailwarden_inline_scan_handoffs_total of the journal ingest, mailwarden_inline_delivery_handoffs_total
 * of the gateway) and, for the ingest, its own scan attempts. Null when /metrics cannot be read.
 */
async function inlinePlacement(metricsUrls: readonly string[], handoffs: string): Promise<Record<string, number> | null> {
  const text = await appMetrics(metricsUrls);
  if (text === null) {
    return null;
  }
  const placement: Record<string, number> = { inline: 0 };
  const scanSeconds = { sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    const attempt = /^mailwarden_scan_attempts_total\{[^}]*where="inline"[^}]*\} (\d+)/.exec(line);
    const handoff = new RegExp(`^${handoffs}\\{[^}]*reason="([a-z-]+)"[^}]*\\} (\\d+)`).exec(line);
    const duration = /^mailwarden_scan_duration_seconds_(sum|count)\{[^}]*\} ([\d.e+-]+)/.exec(line);
    if (attempt) placement.inline! += Number(attempt[1]);
    if (handoff) placement[`queue:${handoff[1]}`] = (placement[`queue:${handoff[1]}`] ?? 0) + Number(handoff[2]);
    if (duration) scanSeconds[duration[1] as 'sum' | 'count'] += Number(duration[2]);
  }
  // The wall time of this app's scans (evaluation, DNS included), against their CPU: how much of a scan is waiting.
  if (scanSeconds.count > 0 && handoffs === 'mailwarden_inline_scan_handoffs_total') {
    placement['(mean wall ms of an evaluation here)'] = Math.round((scanSeconds.sum / scanSeconds.count) * 10_000) / 10;
  }
  return placement;
}

function record(scenario: string, system: string, round: number, load: LoadResult, processes: ProcessFigures, extra?: Record<string, unknown>): RunRecord {
  return {
    scenario,
    system,
    round,
    msgsPerSec: load.msgsPerSec,
    accepted: load.accepted,
    sent: load.sent,
    failures: load.failures,
    smtpLatencyMs: load.latencyMs,
    smtpMsgsPerSec: load.msgsPerSec,
    ...processes,
    extra,
  };
}

/** The scenarios of issue 8, each run against freshly started processes. */
export class Scenarios {
  private phase = 0;

  constructor(
    private readonly options: BenchOptions,
    private readonly env: BenchEnvironment,
    private readonly tenant: BenchTenant,
    private readonly launcher: AppLauncher,
    private readonly originals: readonly Buffer[],
    private readonly log: (line: string) => void,
  ) {}

  /** Journal copies for a new phase: a recipient of its own, so no copy is a duplicate of an earlier phase's. */
  private journalPhase(label: string): { jobs: SmtpJob[]; recipient: string } {
    const recipient = `${label}-${this.phase++}@${JOURNAL_RECIPIENT_DOMAIN}`;
    return { jobs: journalJobs(this.originals, this.tenant.journalAddress, recipient), recipient };
  }

  private load(port: number, jobs: readonly SmtpJob[], ratePerSecond?: number): Promise<LoadResult> {
    return runLoad({ port, jobs, connections: this.options.connections, reuse: this.options.reuse, ratePerSecond });
  }

  async baseline(scenario: string, kind: BaselineKind, round: number, jobs: readonly SmtpJob[]): Promise<RunRecord> {
    const server = await this.launcher.baseline(kind);
    try {
      const before = await this.cpuBefore([server.child]);
      const load = await this.load(server.port, jobs);
      return this.report(record(scenario, `baseline ${kind}`, round, load, await this.finish([server.child], before, load.accepted)));
    } finally {
      await server.child.stop();
    }
  }

  /**
   * Postfix (issue 20's peer) with the same load client, connections and messages: its accept rate, and the CPU of
   * its whole process tree (master, smtpd, cleanup, qmgr, discard, postlogd) per accepted message.
   */
  async postfix(scenario: string, round: number, jobs: readonly SmtpJob[]): Promise<RunRecord> {
    const { peer, port } = await this.launcher.postfix();
    try {
      const before = peer.cpuMs();
      const load = await this.load(port, jobs);
      const after = peer.cpuMs();
      const rss = peer.rssMb();
      const cpu = before === null || after === null || load.accepted === 0 ? null : (after - before) / load.accepted;
      return this.report(record(scenario, 'postfix', round, load, { rssMb: { postfix: rss }, readyRssMb: { postfix: null }, cpuMsPerMessage: { postfix: cpu }, postgresTransactionsPerMessage: null }));
    } finally {
      await peer.stop();
    }
  }

  /**
   * rspamd (DKIM, SPF, DMARC and ARC only) checking the same originals over HTTP /checkv2 with the origin hop's
   * envelope (the journal path evaluates SPF against it too): CPU of its processes per checked message. The symbol
   * counts show the checks ran and passed against the bench DNS.
   */
  async rspamd(round: number): Promise<RunRecord> {
    const { peer, port } = await this.launcher.rspamd();
    try {
      const before = peer.cpuMs();
      const checks = await runRspamdChecks({
        port,
        connections: this.options.connections,
        messages: this.originals,
        ip: ORIGIN_IP,
        helo: `mail.${SENDER_DOMAIN}`,
        from: SENDER,
        rcpt: `bob@${JOURNAL_RECIPIENT_DOMAIN}`,
      });
      const after = peer.cpuMs();
      const cpu = before === null || after === null || checks.checked === 0 ? null : (after - before) / checks.checked;
      const result: RunRecord = {
        scenario: 'scan',
        system: 'rspamd',
        round,
        msgsPerSec: checks.msgsPerSec,
        accepted: checks.checked,
        sent: checks.sent,
        failures: checks.failures ? { http: checks.failures } : {},
        smtpLatencyMs: checks.latencyMs,
        smtpMsgsPerSec: checks.msgsPerSec,
        rssMb: { rspamd: peer.rssMb() },
        cpuMsPerMessage: { rspamd: cpu },
        readyRssMb: { rspamd: null },
        postgresTransactionsPerMessage: null,
        extra: { symbols: checks.symbols },
      };
      this.log(`  rspamd symbols: ${Object.entries(checks.symbols).map(([name, count]) => `${name}×${count}`).join(' ') || 'none'}`);
      return this.report(result);
    } finally {
      await peer.stop();
    }
  }

  journalJobsFor(label: string): SmtpJob[] {
    return this.journalPhase(label).jobs;
  }

  gatewayJobs(): SmtpJob[] {
    return directJobs(this.originals, `user@${GATEWAY_DOMAIN}`);
  }

  /**
   * Journal ingest alone: how fast copies get a durable 250 (stored, scan job enqueued). Always without its own scans
   * (INGEST_INLINE_SCAN=off): the figure is the store's, and the scanning CPU of the end-to-end runs is what they spend
   * beyond it (`scanCpuPerMessage`).
   */
  async ingest(round: number): Promise<RunRecord> {
    const ingest = await this.launcher.journalIngest(false);
    try {
      const before = await this.cpuBefore([ingest.child]);
      const load = await this.load(ingest.port, this.journalPhase('ingest').jobs);
      return this.report(record('ingest', 'mailwarden', round, load, await this.finish([ingest.child], before, load.accepted)));
    } finally {
      await ingest.child.stop();
      await this.discardPendingScans();
    }
  }

  /**
   * The journal pipeline: ingest plus `workers` scanner worker processes, from the first MAIL FROM until the last
   * verdict is committed. At a fixed rate it also gives each message's 250 → verdict latency.
   */
  async endToEnd(scenario: string, round: number, workers: number, ratePerSecond?: number, duringLoad?: () => Promise<Record<string, unknown>>, probe: EndToEndProbe = {}): Promise<RunRecord> {
    const children: BenchChild[] = [];
    try {
      const ingest = await this.launcher.journalIngest(this.options.inlineScan);
      children.push(ingest.child);
      for (let index = 0; index < workers; index++) {
        children.push((await this.launcher.scanner('worker', `scanner-worker-${index + 1}`)).child);
      }
      const { jobs, recipient } = this.journalPhase(scenario);
      let warmup: LatencySummary | null = null;
      if (probe.warmupMessages) {
        // Through the same processes, at the same rate, scanned before the measured copies start.
        const warmupLoad = await this.load(ingest.port, this.journalPhase(`${scenario}-warmup`).jobs.slice(0, probe.warmupMessages), ratePerSecond);
        await this.waitForScans(10 * 60_000);
        warmup = summarize((await this.copyTimelines(warmupLoad)).map((copy) => copy.verdictAt - copy.acceptedAt));
      }
      const before = await this.cpuBefore(children);
      // Work run alongside the load from its first message (the retention purge of the growth scenario).
      const [load, alongside] = await Promise.all([this.load(ingest.port, jobs, ratePerSecond), duringLoad?.()]);
      const done = await this.waitForScans(10 * 60_000);
      const { rows } = await this.env.pg.query<{ n: number; last: Date | null }>('SELECT count(*)::int AS n, max(created_at) AS last FROM verdict WHERE recipient = $1', [recipient]);
      const lastVerdictAt = rows[0]!.last?.getTime() ?? Number.NaN;
      const e2eSeconds = (lastVerdictAt - load.startedAt) / 1000;
      const copies = await this.copyTimelines(load);
      const toVerdict = copies.map((copy) => copy.verdictAt - copy.acceptedAt);
      const scanPlacement = await inlinePlacement(ingest.metricsUrls, 'mailwarden_inline_scan_handoffs_total');
      if (probe.observe) {
        probe.observe(copies, await appMetrics(ingest.metricsUrls));
      }
      const processes = await this.finish(children, before, load.accepted);
      const result = record(scenario, workers === 1 ? 'mailwarden' : `mailwarden ${workers} workers`, round, load, processes, {
        workers,
        ratePerSecond: ratePerSecond ?? null,
        verdicts: rows[0]!.n,
        complete: done,
        e2eSeconds,
        acceptedToVerdictMs: summarize(toVerdict),
        ...(warmup ? { warmupMessages: probe.warmupMessages, warmupToVerdictMs: warmup } : {}),
        scanPlacement,
        ...alongside,
      });
      result.msgsPerSec = rows[0]!.n / e2eSeconds;
      return this.report(result);
    } finally {
      await stopAll(children);
    }
  }

  /**
   * The journal pipeline with the SIEM export on (one NDJSON destination): the end-to-end rate with export running,
   * how long after the last verdict the destination had every event, and the export's own rate, measured by a second
   * destination that drains the whole run's events as a backlog once the load is over.
   */
  async exportPipeline(round: number): Promise<RunRecord> {
    const children: BenchChild[] = [];
    const exportRoot = await mkdtemp(path.join(tmpdir(), 'mw-bench-export-'));
    // Both destinations exist before the worker starts (its start-up schedules every destination); the drain one is
    // held back by a back-off far in the future until the load is over.
    const insert = `INSERT INTO export_destination (account_id, name, kind, settings, cursor_tx_id, cursor_id, next_attempt_at)
      VALUES ($1, $2, 'NDJSON', $3::jsonb, pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, 9223372036854775807, $4) RETURNING id`;
    try {
      const { rows: [live] } = await this.env.pg.query<{ id: string }>(insert, [this.tenant.journalAccountId, 'bench-live', JSON.stringify({ folder: 'live' }), null]);
      const { rows: [drain] } = await this.env.pg.query<{ id: string }>(insert, [this.tenant.journalAccountId, 'bench-drain', JSON.stringify({ folder: 'drain' }), new Date(Date.now() + 86_400_000)]);
      const env = { SECRETS_KEY: randomBytes(32).toString('base64'), EXPORT_FILE_DIR: exportRoot };
      const ingest = await this.launcher.journalIngest(this.options.inlineScan);
      children.push(ingest.child);
      children.push((await this.launcher.scanner('worker', 'scanner-worker', env)).child);
      const { jobs, recipient } = this.journalPhase(`export-${round}`);
      const before = await this.cpuBefore(children);
      const load = await this.load(ingest.port, jobs);
      const done = await this.waitForScans(10 * 60_000);
      const { rows: [verdicts] } = await this.env.pg.query<{ n: number; last: Date | null }>('SELECT count(*)::int AS n, max(created_at) AS last FROM verdict WHERE recipient = $1', [recipient]);
      const lastVerdictAt = verdicts!.last?.getTime() ?? Number.NaN;
      const exported = await this.waitForExport(live!.id, 5 * 60_000);
      // The backlog: every event of this run again, drained by the destination held back until now.
      const drainStart = Date.now();
      await this.env.pg.query('UPDATE export_destination SET next_attempt_at = NULL WHERE id = $1', [drain!.id]);
      const drained = await this.waitForExport(drain!.id, 5 * 60_000);
      const drainSeconds = (drained.doneAt - drainStart) / 1000;
      const processes = await this.finish(children, before, load.accepted);
      const e2eSeconds = (lastVerdictAt - load.startedAt) / 1000;
      const result = record('export', 'mailwarden', round, load, processes, {
        verdicts: verdicts!.n,
        complete: done,
        e2eSeconds,
        exportedEvents: exported.eventsSent,
        exportLagAfterLastVerdictMs: exported.doneAt - lastVerdictAt,
        backlogEvents: drained.eventsSent,
        exportEventsPerSec: drained.eventsSent / drainSeconds,
      });
      result.msgsPerSec = verdicts!.n / e2eSeconds;
      this.log(
        `  export r${round}: end to end ${result.msgsPerSec.toFixed(1)} msgs/s with export on; ${exported.eventsSent} events, all exported ${(exported.doneAt - lastVerdictAt).toFixed(0)} ms after the last verdict; backlog of ${drained.eventsSent} events drained at ${(drained.eventsSent / drainSeconds).toFixed(0)} events/s`,
      );
      return this.report(result);
    } finally {
      await stopAll(children);
      await this.env.pg.query("DELETE FROM export_destination WHERE name LIKE 'bench-%'");
      await rm(exportRoot, { recursive: true, force: true });
    }
  }

  /** Until the destination has passed every outbox row of its account; its event count and when that happened. */
  private async waitForExport(destinationId: string, timeoutMs: number): Promise<{ eventsSent: number; doneAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows: [row] } = await this.env.pg.query<{ lag: number; sent: number }>(
        `SELECT (SELECT count(*)::int FROM outbox_event o WHERE o.account_id = d.account_id AND (o.tx_id, o.id) > (d.cursor_tx_id, d.cursor_id)) AS lag,
           d.events_sent::int AS sent FROM export_destination d WHERE d.id = $1`,
        [destinationId],
      );
      if (row!.lag === 0 || Date.now() > deadline) {
        if (row!.lag > 0) {
          this.log(`  warning: export destination still ${row!.lag} events behind at the deadline`);
        }
        return { eventsSent: row!.sent, doneAt: Date.now() };
      }
      await sleep(50);
    }
  }

  /** Gateway front (role all: SMTP front with inline checks, delivery worker) relaying to the local sink. */
  async gateway(round: number): Promise<RunRecord> {
    const scanner = await this.launcher.scanner('all', undefined, { GATEWAY_INLINE_DELIVERY: this.options.inlineDelivery ? 'on' : 'off' });
    try {
      const before = await this.cpuBefore([scanner.child]);
      const load = await this.load(scanner.port, this.gatewayJobs());
      const delivery = await this.waitForDeliveries(load.startedAt, 5 * 60_000);
      const placement = await inlinePlacement(scanner.metricsUrls, 'mailwarden_inline_delivery_handoffs_total');
      const handedToQueue = placement && Object.fromEntries(Object.entries(placement).filter(([where]) => where !== 'inline'));
      this.log(`  gateway deliveries handed to the delivery queue (GATEWAY_INLINE_DELIVERY), by reason: ${JSON.stringify(handedToQueue)}`);
      return this.report(record('gateway', 'mailwarden', round, load, await this.finish([scanner.child], before, load.accepted), { ...delivery, deliveryHandoffs: handedToQueue }));
    } finally {
      await scanner.child.stop();
    }
  }

  /** Backend pid → CPU ms of the PostgreSQL sessions of the bench database (the bench's own excluded). */
  private async postgresCpu(): Promise<Map<number, number>> {
    const { rows } = await this.env.pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return new Map(rows.map((row) => [row.pid, readCpuMs(row.pid) ?? 0]));
  }

  /** Transactions of the bench database so far (pg_stat_database; the bench's own polling adds a few). */
  private async postgresTransactions(): Promise<number> {
    const { rows } = await this.env.pg.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0]!.n);
  }

  private async cpuBefore(children: readonly BenchChild[]): Promise<CpuBefore> {
    const statements = this.env.statementStatistics ? await statementSnapshot(this.env.pg) : undefined;
    const walBytes = this.env.statementStatistics ? await this.walBytes() : undefined;
    return {
      children: cpuSnapshot([...children, ...children.flatMap((child) => child.members ?? [])]),
      postgres: await this.postgresCpu(),
      transactions: await this.postgresTransactions(),
      tables: await this.tableCounts(),
      statements,
      walBytes,
      redisCommands: await this.env.redisCommandCounts(),
    };
  }

  /** WAL bytes the server has written (pg_stat_wal, server-wide). */
  private async walBytes(): Promise<number> {
    const { rows } = await this.env.pg.query<{ n: string }>('SELECT wal_bytes AS n FROM pg_stat_wal');
    return Number(rows[0]!.n);
  }

  /** Rows written so far per table of the bench database (partitions counted under their own names). */
  private async tableCounts(): Promise<Map<string, TableCounts>> {
    const { rows } = await this.env.pg.query<{ relname: string; ins: string; upd: string; hot: string; del: string }>(
      'SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del FROM pg_stat_user_tables',
    );
    return new Map(rows.map((row) => [row.relname, { inserted: Number(row.ins), updated: Number(row.upd), hotUpdated: Number(row.hot), deleted: Number(row.del) }]));
  }

  /**
   * Reads the CPU the processes (and the database's backends: sessions opened during the run count from zero)
   * spent since `before`, per message, and their peak RSS; then stops them.
   */
  private async finish(children: readonly BenchChild[], before: CpuBefore, messages: number): Promise<ProcessFigures> {
    const cpuMsPerMessage = cpuPerMessage(children, before.children, messages);
    const members = children.flatMap((child) => child.members ?? []);
    const cpuMsPerMessageByProcess = members.length > 0 ? cpuPerMessage(members, before.children, messages) : undefined;
    let postgresMs = 0;
    for (const [pid, ms] of await this.postgresCpu()) {
      postgresMs += ms - (before.postgres.get(pid) ?? 0);
    }
    cpuMsPerMessage.postgres = messages > 0 ? postgresMs / messages : null;
    const readyRssMb = Object.fromEntries(children.map((child) => [child.name, child.readyRssMb]));
    // Backends publish their transaction counts when idle, at most once a second (PostgreSQL 15).
    await sleep(1200);
    const transactions = (await this.postgresTransactions()) - before.transactions;
    const postgresRowsPerMessage: NonNullable<RunRecord['postgresRowsPerMessage']> = {};
    for (const [table, now] of messages > 0 ? await this.tableCounts() : new Map<string, TableCounts>()) {
      const then = before.tables.get(table) ?? { inserted: 0, updated: 0, hotUpdated: 0, deleted: 0 };
      const delta = { inserted: now.inserted - then.inserted, updated: now.updated - then.updated, hotUpdated: now.hotUpdated - then.hotUpdated, deleted: now.deleted - then.deleted };
      if (delta.inserted + delta.updated + delta.deleted > 0) {
        postgresRowsPerMessage[table] = { inserted: delta.inserted / messages, updated: delta.updated / messages, hotUpdated: delta.hotUpdated / messages, deleted: delta.deleted / messages };
      }
    }
    const statementsAfter = before.statements && messages > 0 ? await statementSnapshot(this.env.pg) : undefined;
    // The totals first (statements, blocks, WAL per message), then the costliest statements.
    const postgresStatements = before.statements && statementsAfter ? [statementTotals(before.statements, statementsAfter, messages), ...statementCosts(before.statements, statementsAfter, messages)] : undefined;
    const postgresWalBytesPerMessage = before.walBytes !== undefined && messages > 0 ? ((await this.walBytes()) - before.walBytes) / messages : undefined;
    const redisCommandsPerMessage: Record<string, number> = {};
    for (const [command, calls] of messages > 0 ? await this.env.redisCommandCounts() : new Map<string, number>()) {
      const delta = calls - (before.redisCommands.get(command) ?? 0);
      if (delta > 0) {
        redisCommandsPerMessage[command] = delta / messages;
      }
    }
    return {
      rssMb: await stopAll(children),
      readyRssMb,
      cpuMsPerMessage,
      ...(cpuMsPerMessageByProcess ? { cpuMsPerMessageByProcess } : {}),
      postgresTransactionsPerMessage: messages > 0 ? transactions / messages : null,
      postgresRowsPerMessage,
      postgresStatements,
      postgresWalBytesPerMessage,
      redisCommandsPerMessage,
    };
  }

  private report(result: RunRecord): RunRecord {
    const failures = Object.entries(result.failures).map(([code, count]) => `${code}×${count}`).join(' ') || 'none';
    const rss = Object.entries(result.rssMb)
      .map(([name, mb]) => `${name} ${mb === null ? '?' : Math.round(mb)} MB (${Math.round(result.readyRssMb[name] ?? Number.NaN)} at start), ${result.cpuMsPerMessage[name]?.toFixed(2) ?? '?'} CPU ms/msg`)
      .join('; ');
    const byProcess = Object.entries(result.cpuMsPerMessageByProcess ?? {}).map(([name, ms]) => `${name} ${ms?.toFixed(2) ?? '?'}`).join(', ');
    this.log(
      `  ${result.scenario} r${result.round} ${result.system}: ${result.msgsPerSec.toFixed(1)} msgs/s (SMTP ${result.smtpMsgsPerSec.toFixed(1)}/s, p50/p95/p99 ${[result.smtpLatencyMs.p50, result.smtpLatencyMs.p95, result.smtpLatencyMs.p99].map((v) => v.toFixed(1)).join('/')} ms), ${result.accepted}/${result.sent} accepted, failures ${failures}; ${rss}; postgres ${result.cpuMsPerMessage.postgres?.toFixed(2) ?? '?'} CPU ms/msg, ${result.postgresTransactionsPerMessage?.toFixed(1) ?? '?'} transactions/msg, redis ${Object.values(result.redisCommandsPerMessage ?? {}).reduce((sum, n) => sum + n, 0).toFixed(1)} commands/msg${byProcess ? `; CPU ms/msg by process: ${byProcess}` : ''}`,
    );
    return result;
  }

  /**
   * Each accepted message's store, 250 and verdict: the reply names the stored message; its received_at (the store's
   * transaction) and its verdict's created_at are on the same clock.
   */
  private async copyTimelines(load: LoadResult): Promise<CopyTimeline[]> {
    const acceptedAt = new Map<string, number>();
    for (const acceptance of load.acceptances) {
      const id = UUID.exec(acceptance.text)?.[0];
      if (id) {
        acceptedAt.set(id.toLowerCase(), acceptance.at);
      }
    }
    const { rows } = await this.env.pg.query<{ message_id: string; at: Date; stored: Date }>(
      `SELECT v.message_id::text, max(v.created_at) AS at, min(m.received_at) AS stored
         FROM verdict v JOIN message m ON m.id = v.message_id WHERE v.message_id = ANY($1::uuid[]) GROUP BY v.message_id`,
      [[...acceptedAt.keys()]],
    );
    return rows.map((row) => ({ storedAt: row.stored.getTime(), acceptedAt: acceptedAt.get(row.message_id)!, verdictAt: row.at.getTime() }));
  }

  /** Polls every 50 ms until no stored message waits for its scan ("message_scan" is empty); false on timeout. */
  private async waitForScans(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await this.env.pg.query<{ n: number }>("SELECT count(*)::int AS n FROM message_scan");
      if (rows[0]!.n === 0) {
        return true;
      }
      await sleep(50);
    }
    this.log('  warning: scans still pending at the deadline');
    return false;
  }

  /** Polls until no copy is queued or deferred; when the last copy of this run reached the sink. */
  private async waitForDeliveries(since: number, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.env.pg.query<{ pending: number; delivered: number; last: Date | null }>(
        `SELECT count(*) FILTER (WHERE state IN ('QUEUED', 'DEFERRED'))::int AS pending,
                count(*) FILTER (WHERE state = 'DELIVERED' AND delivered_at >= $1)::int AS delivered,
                max(delivered_at) FILTER (WHERE delivered_at >= $1) AS last
           FROM recipient_delivery`,
        [new Date(since)],
      );
      const { pending, delivered, last } = rows[0]!;
      if (pending === 0 || Date.now() > deadline) {
        return { delivered, deliveriesPending: pending, lastDeliverySeconds: last ? (last.getTime() - since) / 1000 : null };
      }
      await sleep(100);
    }
  }

  /**
   * After the ingest-only phase nothing scanned its copies: their queued jobs and PENDING rows would otherwise be
   * the next phase's backlog. No app runs at this point; only this run's database and prefix are touched.
   */
  private async discardPendingScans(): Promise<void> {
    await this.env.clearRedis();
    await this.env.pg.query(
      `WITH s AS (DELETE FROM message_scan RETURNING message_id, received_at)
       UPDATE message m SET scan_status = 'SKIPPED', scanned_at = now() FROM s WHERE m.id = s.message_id AND m.received_at = s.received_at AND m.scan_status = 'PENDING'`,
    );
  }
}
