import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DnsTestServer } from '@mailwarden/testing';
import { parseArgs, type BenchOptions } from './args';
import { AppLauncher } from './apps';
import { benchAppSettings, BenchEnvironment, JOURNAL_RECIPIENT_DOMAIN } from './bench-env';
import { ensurePeersInstalled, stopAllPeers } from './peers';
import { readProfiles, selfTimeByOwner, topSelfTime } from './cpuprofile-summary';
import { measureSearches, purgeTenant, seedExpiredTenant, seedHistory, seedSpacingSeconds } from './growth';
import { benchZone, buildCorpus, generateSigningKey } from './messages';
import { REPO_ROOT, stopAll } from './processes';
import { markdownReport, medianOf, summarizeRuns, type GrowthFigures } from './report';
import { Scenarios, type RunRecord } from './scenarios';
import { ActivitySampler, gcPauses, tailFigures, type CopyTimeline } from './tail';
import { compactStatistics, measureStatistics, seedStatistics, STATISTICS_DAYS, type StatisticsFigures } from './statistics';

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Copies through fresh processes before the half-load run is measured (see runScenarios). */
const HALF_LOAD_WARMUP = 200;

/**
 * Rounds of A B pairs (baseline, then Mailwarden) per scenario, so the machine's drift hits both alike; then the
 * half-load run, then growth (which only adds history, so it comes last).
 */
async function runScenarios(
  options: BenchOptions,
  scenarios: Scenarios,
  runs: RunRecord[],
  growth: GrowthFigures[],
  context: { env: BenchEnvironment; launcher: AppLauncher; accountId: string; apiKey: string; statistics?: StatisticsFigures },
): Promise<void> {
  const wants = (name: string) => options.scenarios.includes(name as never);
  // Issue 20's peers, in the same rounds as the scenarios they are compared with (Postfix before Mailwarden, A B).
  const peers = wants('peers') && ensurePeersInstalled(log).length === 0;
  if (wants('peers') && !peers) {
    log('peers: Postfix / rspamd missing, their baselines are left out of this run');
  }
  for (let round = 1; round <= options.rounds; round++) {
    log(`round ${round}/${options.rounds}`);
    if (wants('ingest')) {
      runs.push(await scenarios.baseline('ingest', 'fsync', round, scenarios.journalJobsFor('baseline')));
      runs.push(await scenarios.ingest(round));
    }
    if (peers) {
      runs.push(await scenarios.rspamd(round));
    }
    if (wants('e2e') || wants('scale')) {
      if (peers) {
        runs.push(await scenarios.postfix('e2e', round, scenarios.journalJobsFor('postfix')));
      }
      runs.push(await scenarios.baseline('e2e', 'mailauth', round, scenarios.journalJobsFor('baseline')));
      runs.push(await scenarios.endToEnd('e2e', round, 1));
    }
    if (wants('export')) {
      runs.push(await scenarios.exportPipeline(round));
    }
    if (wants('scale')) {
      for (const workers of options.workers.filter((count) => count !== 1)) {
        runs.push(await scenarios.endToEnd('scale', round, workers));
      }
    }
    if (wants('gateway')) {
      if (peers) {
        runs.push(await scenarios.postfix('gateway', round, scenarios.gatewayJobs()));
      }
      runs.push(await scenarios.baseline('gateway', 'mailauth', round, scenarios.gatewayJobs()));
      runs.push(await scenarios.gateway(round));
    }
  }
  const maxRate = medianOf(runs, 'e2e', 'mailwarden');
  if (wants('e2e') && maxRate) {
    // The target is the steady state: fresh processes first take HALF_LOAD_WARMUP copies (their cold start, reported
    // apart; the `tail` scenario showed the slowest 1 % of an unwarmed run to be its first copies).
    log(`half load: ${(maxRate / 2).toFixed(1)} msgs/s offered, after ${HALF_LOAD_WARMUP} warm-up copies`);
    for (let round = 1; round <= options.rounds; round++) {
      runs.push(await scenarios.endToEnd('half-load', round, 1, maxRate / 2, undefined, { warmupMessages: HALF_LOAD_WARMUP }));
    }
  }
  if (wants('tail')) {
    await tailExperiment(options, scenarios, runs, context.env, options.rate ?? (maxRate ? maxRate / 2 : null));
  }
  if (wants('stats')) {
    log(`stats: seeding ${STATISTICS_DAYS} days of aggregates at ${options.statsPerDay} verdicts a day`);
    const seeded = await seedStatistics(context.env.pg, context.accountId, options.statsPerDay);
    const compacted = await compactStatistics(context.env.prisma, context.env.pg);
    log(`  compacted ${seeded.hourlyRows + seeded.topRows} rows to ${compacted.compactedRows} in ${(compacted.compactionMs / 1000).toFixed(1)} s`);
    const admin = await context.launcher.adminApi();
    try {
      const measured = await measureStatistics({ baseUrl: `http://127.0.0.1:${admin.port}`, accountId: context.accountId, apiKey: context.apiKey, requests: options.statsRequests });
      context.statistics = { perDay: options.statsPerDay, days: STATISTICS_DAYS, ...seeded, ...compacted, ...measured };
      log(`  statistics over ${STATISTICS_DAYS} days (${seeded.hourlyRows} + ${seeded.topRows} rows): p50 ${measured.latency.p50.toFixed(1)} ms, p99 ${measured.latency.p99.toFixed(1)} ms, failures ${measured.failures}`);
    } finally {
      await admin.child.stop();
    }
  }
  if (wants('growth')) {
    // `size` seeded messages, on top of the few thousand the rounds above stored; the figures name the real total.
    let seededCount = 0;
    const spacingSeconds = seedSpacingSeconds(Math.max(...options.growth));
    for (const size of options.growth) {
      if (size > seededCount) {
        log(`growth: seeding ${size - seededCount} messages to reach ${size} seeded`);
        await seedHistory(context.env.pg, context.accountId, seededCount, size - seededCount, spacingSeconds, log);
        seededCount = size;
      }
      const { rows } = await context.env.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM message');
      const stored = rows[0]!.n;
      const e2e = await scenarios.endToEnd(`growth-${size}`, 1, 1);
      runs.push(e2e);
      const admin = await context.launcher.adminApi();
      try {
        const search = await measureSearches({ baseUrl: `http://127.0.0.1:${admin.port}`, accountId: context.accountId, apiKey: context.apiKey, searches: options.searches, seededMessages: seededCount, spacingSeconds });
        const rss = await stopAll([admin.child]);
        log(`  search at ${stored} stored: p50 ${search.all.p50.toFixed(1)} ms, p99 ${search.all.p99.toFixed(1)} ms, failures ${search.failures}; admin-api RSS ${Math.round(rss['admin-api'] ?? 0)} MB`);
        growth.push({ seeded: size, stored, e2eMsgsPerSec: e2e.msgsPerSec, search, adminApiRssMb: rss['admin-api'] ?? null });
      } finally {
        await admin.child.stop();
      }
    }
    await retentionUnderLoad(options, scenarios, runs, context, maxRate ? maxRate / 2 : undefined);
  }
}

/**
 * Retention during load (issue 20): a second tenant holds expired messages (40 days old, 20 KB each); the journal
 * pipeline runs at half load once without a purge and once while that tenant is purged by batches, alternately.
 */
async function retentionUnderLoad(options: BenchOptions, scenarios: Scenarios, runs: RunRecord[], context: { env: BenchEnvironment }, rate: number | undefined): Promise<void> {
  const expired = Math.min(20_000, Math.max(...options.growth));
  const tenant = await context.env.prisma.account.create({ data: { name: 'Bench expired tenant', journalToken: `bench-expired-${Date.now()}` } });
  const cutoff = new Date(Date.now() - 30 * 86_400_000);
  for (let round = 1; round <= options.rounds; round++) {
    log(`retention r${round}: seeding ${expired} expired messages of a second tenant`);
    await seedExpiredTenant(context.env.pg, tenant.id, expired, 40, log);
    runs.push(await scenarios.endToEnd('purge-off', round, 1, rate));
    const purging = await scenarios.endToEnd('purge-on', round, 1, rate, () => purgeTenant(context.env.prisma, tenant.id, cutoff));
    runs.push(purging);
    const quiet = runs.at(-2)!;
    const p99 = (run: RunRecord) => (run.extra?.acceptedToVerdictMs as { p99: number } | undefined)?.p99 ?? Number.NaN;
    log(
      `  retention r${round}: purged ${String(purging.extra?.purgedMessages)} messages in ${Number(purging.extra?.purgeSeconds).toFixed(1)} s from the load's start ` +
        `(${Number(purging.extra?.purgeMessagesPerSec).toFixed(0)}/s; batches of ${String(purging.extra?.purgeBatchSize)} at ${String(purging.extra?.purgeRowsPerSecond)} rows/s at most; ` +
        `PostgreSQL ${Number(purging.extra?.purgeBackendCpuMsPerMessage).toFixed(3)} CPU ms per purged message); ` +
        `SMTP ${quiet.smtpMsgsPerSec.toFixed(1)} → ${purging.smtpMsgsPerSec.toFixed(1)} msgs/s (${((purging.smtpMsgsPerSec / quiet.smtpMsgsPerSec - 1) * 100).toFixed(1)} %), ` +
        `p99 250 → verdict ${p99(quiet).toFixed(0)} → ${p99(purging).toFixed(0)} ms (${((p99(purging) / p99(quiet) - 1) * 100).toFixed(1)} %)`,
    );
  }
}

/**
 * What the slowest 1 % of 250 → verdict wait on at half load (issue 20): per round, one half-load run per variant
 * (each switches one suspect off, TAIL_VARIANTS), alternately, with every copy's timeline, PostgreSQL's sessions
 * sampled every 20 ms, checkpoints counted and the ingest's GC pauses read from its /metrics.
 */
async function tailExperiment(options: BenchOptions, scenarios: Scenarios, runs: RunRecord[], env: BenchEnvironment, rate: number | null): Promise<void> {
  if (!rate) {
    log('tail: no rate (give --rate, or run e2e too for half its median); left out');
    return;
  }
  log(`tail: ${rate.toFixed(1)} msgs/s offered, variants ${options.tailVariants.join(', ')}`);
  const p99s: Record<string, number[]> = {};
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of options.tailVariants) {
      const held = new Client({ connectionString: env.databaseUrl });
      await held.connect();
      try {
        if (variant === 'no-flush') {
          // mw_flush_search_pending takes this key with pg_try_advisory_xact_lock: held here, every flush returns -1.
          await held.query("SELECT pg_advisory_lock(hashtext('mw_flush_search_pending'))");
        }
        if (variant === 'no-autovacuum') {
          await held.query(`DO $$ DECLARE r RECORD; BEGIN FOR r IN SELECT oid::regclass AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace LOOP
            EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', r.t); END LOOP; END $$`);
        }
        if (variant === 'checkpoint') {
          await held.query('CHECKPOINT');
        }
        const checkpoints = async () => Number((await held.query<{ n: string }>('SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter')).rows[0]!.n);
        const checkpointsBefore = await checkpoints();
        const sampler = await ActivitySampler.start(env.databaseUrl);
        let observed: { copies: CopyTimeline[]; metrics: string | null } = { copies: [], metrics: null };
        const run = await scenarios.endToEnd(`tail-${variant}`, round, 1, rate, undefined, {
          warmupMessages: variant === 'warm' ? 200 : 0,
          observe: (copies, metrics) => (observed = { copies, metrics }),
        });
        const samples = await sampler.stop();
        const figures = tailFigures(observed.copies, samples);
        const gc = gcPauses(observed.metrics);
        run.extra = { ...run.extra, variant, tail: figures, gcPauses: gc, checkpointsDuringRun: (await checkpoints()) - checkpointsBefore };
        runs.push(run);
        (p99s[variant] ??= []).push(figures.p99);
        const shares = (entries: Record<string, number>) => Object.entries(entries).slice(0, 6).map(([name, share]) => `${name} ${(share * 100).toFixed(0)}%`).join(', ');
        log(
          `  tail r${round} ${variant}: 250 → verdict p50 ${figures.p50.toFixed(0)} ms, p99 ${figures.p99.toFixed(0)} ms; slowest 1 % at ${figures.slowOffsetsSeconds.join(' ')} s into the run; first 8 copies ${figures.firstCopiesMs.join(' ')} ms; ` +
            `store→250 / 250→verdict medians all ${figures.stages.all.storeTo250.toFixed(0)} / ${figures.stages.all.toVerdict.toFixed(0)} ms, slow ${figures.stages.slow.storeTo250.toFixed(0)} / ${figures.stages.slow.toVerdict.toFixed(0)} ms; ` +
            `overlapping a search-index flush: slow ${(figures.overlapsFlush.slow * 100).toFixed(0)} %, all ${(figures.overlapsFlush.all * 100).toFixed(0)} %; checkpoints ${String(run.extra.checkpointsDuringRun)}; ` +
            `ingest GC ≥10 ms / ≥100 ms: ${gc ? Object.entries(gc).map(([kind, counts]) => `${kind} ${counts.over10ms}/${counts.over100ms}`).join(', ') : '?'}`,
        );
        log(`    PostgreSQL while the slowest 1 % waited: ${shares(figures.activity.slow)}`);
        log(`    PostgreSQL over the whole run:          ${shares(figures.activity.all)}`);
      } finally {
        if (variant === 'no-autovacuum') {
          await held.query(`DO $$ DECLARE r RECORD; BEGIN FOR r IN SELECT oid::regclass AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace LOOP
            EXECUTE format('ALTER TABLE %s RESET (autovacuum_enabled)', r.t); END LOOP; END $$`);
        }
        await held.end();
      }
    }
  }
  log(`tail: p99 250 → verdict by variant: ${Object.entries(p99s).map(([variant, values]) => `${variant} ${values.map((value) => value.toFixed(0)).join(' / ')} ms`).join('; ')}`);
}

function profileSummaries(profileDir: string | null): Record<string, Array<{ fn: string; ms: number; percent: number }>> {
  if (!profileDir || !existsSync(profileDir)) {
    return {};
  }
  const summaries: Record<string, Array<{ fn: string; ms: number; percent: number }>> = {};
  for (const app of ['journal-ingest', 'scanner', 'admin-api']) {
    const dir = path.join(profileDir, app);
    if (existsSync(dir)) {
      const profiles = readProfiles(dir);
      const { top, busyMs } = topSelfTime(profiles, 15);
      summaries[app] = top;
      summaries[`${app} by owner`] = selfTimeByOwner(profiles).top;
      log(`cpu profile ${app} (busy ${busyMs} ms):`);
      for (const entry of [...top, ...summaries[`${app} by owner`]!]) {
        log(`  ${String(entry.ms).padStart(7)} ms ${entry.percent.toFixed(1).padStart(5)}%  ${entry.fn}`);
      }
    }
  }
  return summaries;
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  const started = new Date();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mw-bench-'));
  const profileDir = options.cpuProf ? path.join(workDir, 'profiles') : null;
  const key = generateSigningKey();
  const dns = new DnsTestServer(benchZone(key));
  let env: BenchEnvironment | undefined;
  let sink: Awaited<ReturnType<AppLauncher['baseline']>> | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await sink?.child.stop();
    await stopAllPeers();
    await dns.stop();
    await env?.destroy().catch((error: Error) => console.error(`bench: could not drop ${env?.databaseName}: ${error.message}`));
    // The fsync baseline's files and the peers' folders go in any case; the profiles of a --cpu-prof run stay for reading.
    for (const folder of options.cpuProf ? [path.join(workDir, 'spool'), path.join(workDir, 'peers')] : [workDir]) {
      rmSync(folder, { recursive: true, force: true });
    }
  };
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the processes, dropping the bench database`);
      void cleanup().finally(() => process.exit(code));
    });
  }

  try {
    log(`options: ${JSON.stringify(options)}`);
    const dnsPort = await dns.start();
    env = await BenchEnvironment.create();
    log(`database ${env.databaseName}, Redis prefix ${env.redisPrefix}, DNS 127.0.0.1:${dnsPort}`);
    const launcher = new AppLauncher(env, `127.0.0.1:${dnsPort}`, path.join(workDir, 'spool'), profileDir, options.smtpProcesses);
    sink = await launcher.baseline('discard');
    const tenant = await env.seed(sink.port);
    log(`signing ${options.messages} messages of ${options.sizeBytes} bytes`);
    const originals = await buildCorpus(options.messages, { sizeBytes: options.sizeBytes, recipient: `bob@${JOURNAL_RECIPIENT_DOMAIN}`, key });
    const scenarios = new Scenarios(options, env, tenant, launcher, originals, log);
    const runs: RunRecord[] = [];
    const growth: GrowthFigures[] = [];
    const context = { env, launcher, accountId: tenant.journalAccountId, apiKey: tenant.apiKey, statistics: undefined as StatisticsFigures | undefined };
    try {
      await runScenarios(options, scenarios, runs, growth, context);
    } finally {
      await sink.child.stop();
      const { rows } = await env.pg.query<{ version: string }>('SHOW server_version').catch(() => ({ rows: [{ version: 'unknown' }] }));
      const summary = { ...summarizeRuns(runs, growth, options.workers), statistics: context.statistics };
      const profiles = profileSummaries(profileDir);
      const commit = git('rev-parse', 'HEAD');
      const dirty = git('status', '--porcelain', '--untracked-files=no');
      const cpus = os.cpus();
      const machine = {
        cpus: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
        memoryGb: Math.round(os.totalmem() / 1024 ** 3),
        node: process.version,
        postgres: (rows[0] as { server_version?: string; version?: string }).server_version ?? 'unknown',
        os: `${os.type()} ${os.release()}`,
        loadAverageAtStart: os.loadavg().map((value) => value.toFixed(2)).join(' '),
      };
      const result = { date: started.toISOString(), finished: new Date().toISOString(), commit, workTreeDirty: dirty !== '' && dirty !== 'unknown', machine, options, summary, runs };
      const header = {
        date: started.toISOString(),
        commit: `${commit}${result.workTreeDirty ? ' (work tree had uncommitted changes)' : ''}`,
        machine: `${machine.cpus}, ${machine.memoryGb} GB, ${machine.os}`,
        'node / PostgreSQL': `${machine.node} / ${machine.postgres}`,
        options: `${options.messages} messages of ${options.sizeBytes} B, ${options.connections} connections (${options.reuse ? 'reused' : 'one per message'}), ${options.rounds} round(s), journal ingest INGEST_INLINE_SCAN=${options.inlineScan ? 'on' : 'off'}, gateway GATEWAY_INLINE_DELIVERY=${options.inlineDelivery ? 'on' : 'off'}${options.smtpProcesses > 1 ? `, ${options.smtpProcesses} processes each of the journal ingest and of the gateway scanner on one SMTP port (SMTP_REUSE_PORT; CPU per message summed over them, RSS the largest)` : ''}${options.quick ? ', --quick' : ''}${options.cpuProf ? ', --cpu-prof (the profiler slows the apps and adds to their RSS: not for the figures)' : ''}${Object.entries(benchAppSettings()).map(([name, value]) => `, app setting ${name}=${value}`).join('')}`,
        command: `npm run bench -- ${argv.join(' ')}`.trim(),
      };
      const resultsDir = path.join(REPO_ROOT, 'tools', 'bench', 'results');
      mkdirSync(resultsDir, { recursive: true });
      const first = path.join(resultsDir, `${started.toISOString().slice(0, 10)}-${commit.slice(0, 7)}${options.quick ? '-quick' : ''}`);
      // A second run of the same commit on the same day gets its own files (it overwrote the first one's before).
      let base = first;
      for (let run = 2; existsSync(`${base}.json`) || existsSync(`${base}.md`); run++) {
        base = `${first}-run${run}`;
      }
      writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
      const markdown = markdownReport(header, summary, runs, profiles);
      writeFileSync(`${base}.md`, markdown);
      console.log(`\n${markdown}`);
      log(`results: ${base}.json, ${base}.md${profileDir ? `; profiles in ${profileDir}` : ''}`);
    }
  } finally {
    await cleanup();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
