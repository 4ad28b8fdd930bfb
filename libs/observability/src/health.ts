/** One dependency the app needs; `check` rejects (or times out) when it is down. */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'error';
  checks: Record<string, { status: 'up' | 'down'; error?: string; latencyMs: number }>;
}

/** Runs every indicator at once, each bounded by `timeoutMs`, and reports which part failed. */
export async function runHealthChecks(indicators: readonly HealthIndicator[], timeoutMs = 2000): Promise<HealthReport> {
  const entries = await Promise.all(
    indicators.map(async (indicator) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          indicator.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [indicator.name, { status: 'up' as const, latencyMs: Math.round(performance.now() - started) }] as const;
      } catch (error) {
        const message = error instanceof Error ? error.message || error.name : String(error);
        return [indicator.name, { status: 'down' as const, error: message, latencyMs: Math.round(performance.now() - started) }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { status: entries.every(([, entry]) => entry.status === 'up') ? 'ok' : 'error', checks };
}
