/** One sample of a Prometheus text exposition: name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** What `/metrics` answered, parsed (text format 0.0.4), with lookups that sum the samples matching some labels. */
export class MetricsSnapshot {
  constructor(readonly samples: readonly MetricSample[]) {}

  static parse(text: string): MetricsSnapshot {
    const samples: MetricSample[] = [];
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match || line.startsWith('#')) {
        continue;
      }
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[key!] = value!.replace(/\\(.)/g, (_, character: string) => (character === 'n' ? '\n' : character));
      }
      samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
    return new MetricsSnapshot(samples);
  }

  /** The sum of the samples of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
      .reduce((sum, sample) => sum + sample.value, 0);
  }

  has(name: string): boolean {
    return this.samples.some((sample) => sample.name === name);
  }

  /** How much `name{labels}` grew from `before` to this snapshot. */
  delta(before: MetricsSnapshot, name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) - before.value(name, labels);
  }
}

/** GET `<baseUrl>/metrics` over HTTP, parsed. */
export async function scrapeMetrics(baseUrl: string, headers: Record<string, string> = {}): Promise<MetricsSnapshot> {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  if (response.status !== 200) {
    throw new Error(`GET ${baseUrl}/metrics answered ${response.status}`);
  }
  return MetricsSnapshot.parse(await response.text());
}
