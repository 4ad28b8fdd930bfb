import { collectDefaultMetrics, Registry } from 'prom-client';

/** One Prometheus registry per app process, with Node's default metrics and an `app` label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: 'mailwarden_' });
  return registry;
}
