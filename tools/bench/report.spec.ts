import { markdownReport, peakRss, scanCpuPerMessage, summarizeRuns, type GrowthFigures } from './report';
import type { RunRecord } from './scenarios';

function run(scenario: string, system: string, round: number, msgsPerSec: number, rssMb: Record<string, number | null> = {}, extra?: Record<string, unknown>): RunRecord {
  const latency = { count: 1, p50: 1, p95: 1, p99: 1, max: 1 };
  return { scenario, system, round, msgsPerSec, accepted: 1, sent: 1, failures: {}, smtpLatencyMs: latency, smtpMsgsPerSec: msgsPerSec, rssMb, cpuMsPerMessage: {}, readyRssMb: {}, postgresTransactionsPerMessage: null, extra };
}

describe(summarizeRuns.name, () => {
  it('should compare the medians over rounds, not single runs, and flag each target', () => {
    const runs = [
      run('ingest', 'baseline fsync', 1, 100),
      run('ingest', 'mailwarden', 1, 150),
      run('ingest', 'baseline fsync', 2, 300),
      run('ingest', 'mailwarden', 2, 90),
      run('ingest', 'baseline fsync', 3, 200),
      run('ingest', 'mailwarden', 3, 180),
      run('e2e', 'baseline mailauth', 1, 100),
      run('e2e', 'mailwarden', 1, 90),
      run('half-load', 'mailwarden', 1, 45, {}, { acceptedToVerdictMs: { p50: 20, p99: 300 }, warmupMessages: 200, warmupToVerdictMs: { p50: 30, p99: 410 } }),
    ];
    const { rows } = summarizeRuns(runs, [], [1]);
    expect(rows.find((row) => row.figure.startsWith('journal ingest'))).toMatchObject({ baseline: 200, mailwarden: 150, ratio: 0.75, met: false });
    expect(rows.find((row) => row.figure.startsWith('journal end-to-end'))).toMatchObject({ ratio: 0.9, met: true });
    expect(rows.find((row) => row.figure.startsWith('p99 250'))).toMatchObject({ mailwarden: 300, met: false });
    // The fresh processes' first copies (the warm-up) are measured apart, without a target: a cold start, not the steady state.
    expect(rows.find((row) => row.figure.startsWith('(cold start)'))).toMatchObject({ mailwarden: 410, target: '–', met: null });
    expect(rows.some((row) => row.figure.startsWith('gateway'))).toBe(false);
  });

  it('should judge history search at the largest history of the run and name its size', () => {
    const search = (p99: number) => ({ all: { p50: 1, p95: 1, p99, count: 1, mean: 1, max: p99 }, byFilter: {}, failures: 0 }) as unknown as NonNullable<GrowthFigures['search']>;
    const growth: GrowthFigures[] = [
      { seeded: 1_000_000, stored: 1_004_000, e2eMsgsPerSec: 1, search: search(40), adminApiRssMb: 1 },
      { seeded: 10_000_000, stored: 10_004_000, e2eMsgsPerSec: 1, search: search(271), adminApiRssMb: 1 },
    ];
    expect(summarizeRuns([], growth, [1]).rows.find((row) => row.figure.startsWith('history search'))).toMatchObject({
      figure: 'history search p99 at 10,004,000 stored (ms)',
      mailwarden: 271,
      met: false,
    });
  });

  it('should give the gateway delivery rate from copies delivered and the time of the last one', () => {
    const runs = [run('gateway', 'mailwarden', 1, 250, {}, { delivered: 1000, lastDeliverySeconds: 16 }), run('gateway', 'mailwarden', 2, 240, {}, { delivered: 1000, lastDeliverySeconds: 20 })];
    expect(summarizeRuns(runs, [], [1]).rows.find((row) => row.figure.startsWith('gateway delivery'))).toMatchObject({ mailwarden: 56.3 });
  });

  it('should report throughput by worker count from the e2e and scale runs', () => {
    const runs = [run('e2e', 'mailwarden', 1, 80), run('scale', 'mailwarden 2 workers', 1, 70), run('scale', 'mailwarden 2 workers', 2, 60)];
    expect(summarizeRuns(runs, [], [1, 2, 4]).scale).toEqual([
      { workers: 1, msgsPerSec: 80 },
      { workers: 2, msgsPerSec: 65 },
      { workers: 4, msgsPerSec: null },
    ]);
  });
});

describe('peer ratios (issue 20)', () => {
  const withCpu = (record: RunRecord, cpu: Record<string, number | null>) => ({ ...record, cpuMsPerMessage: cpu });

  it('should compare the journal path and the gateway with Postfix of the same rounds, and scan CPU with rspamd', () => {
    const runs = [
      run('e2e', 'postfix', 1, 400),
      run('e2e', 'mailwarden', 1, 300),
      run('gateway', 'postfix', 1, 400),
      run('gateway', 'mailwarden', 1, 420),
      withCpu(run('ingest', 'mailwarden', 1, 600), { 'journal-ingest': 1, postgres: 0.5 }),
      withCpu(run('e2e', 'mailwarden', 2, 320), { 'scanner-worker-1': 1.5, postgres: 1.7 }),
      withCpu(run('scan', 'rspamd', 1, 900), { rspamd: 1.6 }),
    ];
    const { rows } = summarizeRuns(runs, [], [1]);
    // e2e medians: (300 + 320) / 2 = 310 over Postfix 400.
    expect(rows.find((row) => row.figure.startsWith('journal path'))).toMatchObject({ baseline: 400, mailwarden: 310, ratio: 0.775, met: false });
    expect(rows.find((row) => row.figure.startsWith('gateway inline, SMTP 250s (msgs/s) vs Postfix'))).toMatchObject({ ratio: 1.05, met: true });
    // 1.5 in the worker + (1.7 - 0.5) in PostgreSQL = 2.7 against 1.6: lower is better, so not met.
    expect(rows.find((row) => row.figure.startsWith('scanning CPU'))).toMatchObject({ baseline: 1.6, mailwarden: 2.7, met: false });
  });

  it('should leave the peer rows out when no peer ran, and not take PostgreSQL below zero', () => {
    const runs = [withCpu(run('ingest', 'mailwarden', 1, 600), { postgres: 2 }), withCpu(run('e2e', 'mailwarden', 1, 300), { 'scanner-worker-1': 1, postgres: 1 })];
    expect(summarizeRuns(runs, [], [1]).rows.some((row) => row.target.includes('peer'))).toBe(false);
    expect(scanCpuPerMessage(runs)).toEqual({ total: 1, worker: 1, ingest: 0, postgres: 0 });
  });

  it("should count the journal ingest's own scans (INGEST_INLINE_SCAN): its CPU in e2e beyond its store-only ingest runs", () => {
    const runs = [
      withCpu(run('ingest', 'mailwarden', 1, 600), { 'journal-ingest': 1.5, postgres: 1 }),
      withCpu(run('e2e', 'mailwarden', 1, 300), { 'journal-ingest': 4, 'scanner-worker-1': 1.25, postgres: 4.5 }),
    ];
    // worker 1.25 + ingest (4 - 1.5) + PostgreSQL (4.5 - 1) = 7.25
    expect(scanCpuPerMessage(runs)).toEqual({ total: 7.25, worker: 1.25, ingest: 2.5, postgres: 3.5 });
  });
});

describe(peakRss.name, () => {
  it('should keep the highest peak per app, numbered workers counted as one app, the admin API from growth', () => {
    const runs = [run('e2e', 'mailwarden', 1, 1, { 'journal-ingest': 200, 'scanner-worker-1': 250 }), run('scale', 'x', 1, 1, { 'scanner-worker-1': 240, 'scanner-worker-2': 270, 'journal-ingest': null })];
    expect(peakRss(runs, [{ seeded: 10, stored: 12, e2eMsgsPerSec: 1, search: null, adminApiRssMb: 180 }])).toEqual({ 'journal-ingest': 200, 'scanner-worker': 270, 'admin-api': 180 });
  });
});

describe(markdownReport.name, () => {
  it('should list the CPU of each process of an app only when a run had several (--smtp-processes)', () => {
    const alone = { ...run('e2e', 'mailwarden', 1, 100), cpuMsPerMessage: { 'journal-ingest': 2.5 } };
    const split = { ...run('e2e', 'mailwarden', 2, 150), cpuMsPerMessage: { 'journal-ingest': 2.75 }, cpuMsPerMessageByProcess: { 'journal-ingest#1': 1.5, 'journal-ingest#2': 1.25 } };
    const summary = summarizeRuns([alone], [], [1]);
    expect(markdownReport({}, summary, [alone], {})).not.toContain('each process of an app');
    const text = markdownReport({}, summarizeRuns([alone, split], [], [1]), [alone, split], {});
    expect(text).toContain('## CPU ms per message of each process of an app');
    expect(text).toContain('| e2e | 2 | journal-ingest#1 1.5, journal-ingest#2 1.25 |');
    expect(text).toContain('journal-ingest 2.75');
  });
});
