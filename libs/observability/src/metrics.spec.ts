import { Registry } from 'prom-client';
import { boundedLabel, collectOnScrape, counter, counterIn, gauge, gaugeIn, histogram, LATENCY_SECONDS_BUCKETS, metricsIn } from './metrics';

describe('metric helpers', () => {
  it('should give the metric already in the registry rather than register a second one', () => {
    const registry = new Registry();
    const first = counterIn(registry, { name: 'mw_test_total', help: 'x', labelNames: ['a'] as const });
    const second = counterIn(registry, { name: 'mw_test_total', help: 'x', labelNames: ['a'] as const });
    expect(second).toBe(first);
    expect(counterIn(new Registry(), { name: 'mw_test_total', help: 'x' })).not.toBe(first);
  });

  it('should declare a table of metrics in a registry once, whoever declares it first', async () => {
    const registry = new Registry();
    const table = {
      runs: counter('mw_runs_total', 'Runs by result', ['result']),
      open: gauge('mw_open', 'Open now'),
      took: histogram('mw_took_seconds', 'Time taken', ['kind']),
    };
    const metrics = metricsIn(registry, table);
    metrics.runs.inc({ result: 'ok' }, 2);
    metrics.open.set(3);
    metrics.took.observe({ kind: 'a' }, 0.02);
    // A second class of the same process (the gateway and the scan worker in SCANNER_ROLE=all) gets the same metrics.
    expect(metricsIn(registry, table).runs).toBe(metrics.runs);
    const text = await registry.metrics();
    expect(text).toMatch(/# HELP mw_runs_total Runs by result\n# TYPE mw_runs_total counter\nmw_runs_total\{result="ok"\} 2\n/);
    expect(text).toMatch(/# TYPE mw_open gauge\nmw_open 3\n/);
    expect(text).toContain(`mw_took_seconds_bucket{le="${LATENCY_SECONDS_BUCKETS[0]}",kind="a"} 0`);
    expect(text).toContain('mw_took_seconds_bucket{le="0.025",kind="a"} 1');
  });

  it('should refresh a group of gauges once per scrape, and keep the last values when a refresh fails', async () => {
    const registry = new Registry();
    const depth = gaugeIn(registry, { name: 'mw_depth', help: 'x' });
    const age = gaugeIn(registry, { name: 'mw_age', help: 'x' });
    let refreshes = 0;
    let failing = false;
    collectOnScrape(
      [depth, age],
      async () => {
        refreshes++;
        if (failing) {
          throw new Error('redis down');
        }
        depth.set(refreshes * 10);
        age.set(refreshes);
      },
      0,
    );
    expect(await registry.metrics()).toMatch(/mw_depth 10\n[\s\S]*mw_age 1\n/);
    expect(refreshes).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    failing = true;
    const text = await registry.metrics();
    expect(refreshes).toBe(2);
    expect(text).toMatch(/mw_depth 10\n/);
  });

  it('should keep label values to a fixed set', () => {
    const allowed = new Set(['spf', 'dmarc']);
    expect(boundedLabel('dmarc', allowed)).toBe('dmarc');
    expect(boundedLabel('evil@example.com', allowed)).toBe('other');
    expect(boundedLabel(null, allowed)).toBe('none');
    expect(boundedLabel('', allowed)).toBe('none');
  });
});
