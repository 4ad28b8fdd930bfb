import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';

/** One Prometheus registry per app process, with Node's default metrics and an `app` label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: 'mailwarden_' });
  return registry;
}

type Config<C> = Omit<C, 'registers'>;

/**
 * Get-or-create: the metric of that name in the registry, or a new one registered there. Two providers of one app
 * that record the same figure (the scan metrics of the gateway and of the scan worker in a SCANNER_ROLE=all process)
 * share one metric instead of failing on a second registration.
 */
export function counterIn<L extends string>(registry: Registry, config: Config<CounterConfiguration<L>>): Counter<L> {
  return (registry.getSingleMetric(config.name) as Counter<L> | undefined) ?? new Counter<L>({ ...config, registers: [registry] });
}

/** Get-or-create, as {@link counterIn}. */
export function gaugeIn<L extends string>(registry: Registry, config: Config<GaugeConfiguration<L>>): Gauge<L> {
  return (registry.getSingleMetric(config.name) as Gauge<L> | undefined) ?? new Gauge<L>({ ...config, registers: [registry] });
}

/** Get-or-create, as {@link counterIn}. */
export function histogramIn<L extends string>(registry: Registry, config: Config<HistogramConfiguration<L>>): Histogram<L> {
  return (registry.getSingleMetric(config.name) as Histogram<L> | undefined) ?? new Histogram<L>({ ...config, registers: [registry] });
}

/**
 * Gauges read from a shared source (PostgreSQL, Redis) when Prometheus scrapes, not on the hot path: one refresh per
 * scrape serves every gauge of the group (and scrapes within `reuseMs` of it). A failing refresh leaves the last
 * values in place rather than failing the whole scrape.
 */
export function collectOnScrape(gauges: ReadonlyArray<Gauge<string>>, refresh: () => Promise<void>, reuseMs = 250): void {
  let inFlight: Promise<void> | null = null;
  const collect = () => {
    inFlight ??= refresh()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (inFlight = null), reuseMs).unref());
    return inFlight;
  };
  for (const gauge of gauges) {
    (gauge as unknown as { collect: () => Promise<void> }).collect = collect;
  }
}

/**
 * A bounded label value: `value` when it is one of `allowed`, otherwise `other`. Labels never carry an address, a
 * domain or a message id (each would be a new time series), only values from a fixed set.
 */
export function boundedLabel(value: string | null | undefined, allowed: ReadonlySet<string>): string {
  if (value === null || value === undefined || value === '') {
    return 'none';
  }
  return allowed.has(value) ? value : 'other';
}
