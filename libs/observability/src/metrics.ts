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

/** A metric declared with {@link counter}, {@link gauge} or {@link histogram}: its kind, name, help and label names. */
export interface MetricDefinition<K extends 'counter' | 'gauge' | 'histogram', L extends string> {
  readonly kind: K;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly buckets?: number[];
}

/** Latency buckets in seconds, 5 ms to 10 s (the scan, HTTP and every other `*_duration_seconds` histogram). */
export const LATENCY_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): MetricDefinition<'counter', L> {
  return { kind: 'counter', name, help, labelNames };
}

export function gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): MetricDefinition<'gauge', L> {
  return { kind: 'gauge', name, help, labelNames };
}

export function histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], buckets = LATENCY_SECONDS_BUCKETS): MetricDefinition<'histogram', L> {
  return { kind: 'histogram', name, help, labelNames, buckets };
}

type MetricOf<D> =
  D extends MetricDefinition<'counter', infer L> ? Counter<L> : D extends MetricDefinition<'gauge', infer L> ? Gauge<L> : D extends MetricDefinition<'histogram', infer L> ? Histogram<L> : never;

/** The metrics of a group of definitions, by the same keys. */
export type MetricsOf<D> = { readonly [K in keyof D]: MetricOf<D[K]> };

/**
 * The one way a lib declares its metrics: a module-level table of definitions (`counter(name, help, labels)`, …),
 * turned into the metrics of an app's registry here (get-or-create, as {@link counterIn}). Keeps every metric's name
 * and help in one table per lib, and the classes around them to what they count.
 */
export function metricsIn<D extends Record<string, MetricDefinition<'counter' | 'gauge' | 'histogram', string>>>(registry: Registry, definitions: D): MetricsOf<D> {
  const metrics: Record<string, unknown> = {};
  for (const [key, { kind, name, help, labelNames, buckets }] of Object.entries(definitions)) {
    const config = { name, help, labelNames: [...labelNames] };
    metrics[key] = kind === 'counter' ? counterIn(registry, config) : kind === 'gauge' ? gaugeIn(registry, config) : histogramIn(registry, { ...config, buckets });
  }
  return metrics as MetricsOf<D>;
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
