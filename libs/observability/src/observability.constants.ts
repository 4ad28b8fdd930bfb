/** Injection token: HealthIndicator[] checked by /health. */
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');
/** Injection token: the app's prom-client Registry served at /metrics. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
