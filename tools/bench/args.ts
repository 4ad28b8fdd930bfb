export const SCENARIOS = ['ingest', 'e2e', 'export', 'gateway', 'scale', 'growth', 'stats', 'peers', 'tail'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * What the `tail` scenario switches off or adds around a half-load run (p99 250 → verdict, issue 20): `base` as is;
 * `no-flush` the scan workers' search-index flush (its advisory lock held by the bench, so stores flush a full list
 * themselves); `checkpoint` a CHECKPOINT just before (none due during the run); `no-autovacuum` autovacuum off on
 * every table of the bench database for the run; `warm` 200 copies through the same processes before the measured ones.
 */
export const TAIL_VARIANTS = ['base', 'no-flush', 'checkpoint', 'no-autovacuum', 'warm'] as const;
export type TailVariant = (typeof TAIL_VARIANTS)[number];

export interface BenchOptions {
  /** Messages per measured run. */
  messages: number;
  /** Approximate size of each original message, bytes. */
  sizeBytes: number;
  /** Concurrent SMTP connections of the load generator. */
  connections: number;
  /** Rounds of baseline / Mailwarden pairs (A B A B); medians are reported. */
  rounds: number;
  /** Reuse each connection for many messages (true) or open one per message. */
  reuse: boolean;
  scenarios: Scenario[];
  /** Stored-history sizes of the growth scenario, ascending. */
  growth: number[];
  /** Scanner worker processes of the scale scenario. */
  workers: number[];
  /** Message-history searches per growth size. */
  searches: number;
  /** Verdicts per day of the tenant whose month the stats scenario seeds. */
  statsPerDay: number;
  /** Dashboard statistics requests of the stats scenario. */
  statsRequests: number;
  /** Pass --cpu-prof to the app processes and summarise the profiles at the end. */
  cpuProf: boolean;
  /** INGEST_INLINE_SCAN of the journal ingest: it scans its own copies after the commit (on), or queues them all (off). */
  inlineScan: boolean;
  /** Offered msgs/s of the tail scenario; null: half the e2e median of this run. */
  rate: number | null;
  /** Variants of the tail scenario, run alternately in each round. */
  tailVariants: TailVariant[];
  /** GATEWAY_INLINE_DELIVERY of the gateway scanner: it delivers what it stored itself (on), or queues every delivery (off). */
  inlineDelivery: boolean;
  /**
   * Processes of the journal ingest (ingest, e2e, export, tail) and of the gateway scanner (gateway) on one host and
   * one SMTP port (SMTP_REUSE_PORT, issue 20); their CPU per message is summed, their peak RSS the largest.
   */
  smtpProcesses: number;
  quick: boolean;
}

export const USAGE = `npm run bench -- [options]
  --messages N        messages per run (default 5000; --quick: 300)
  --size S            original message size: 20kb, 1mb, 20480 (default 20kb)
  --connections C     concurrent SMTP connections (default 8)
  --rounds R          baseline/Mailwarden rounds, medians reported (default 3; --quick: 1)
  --reuse | --no-reuse  reuse connections (default) or one connection per message
  --scenarios LIST    ingest,e2e,export,gateway,scale,growth,stats,peers,tail (default all but tail; peers: Postfix and
                      rspamd beside e2e and gateway, installed from Debian when missing; tail: see --tail-variants)
  --growth LIST       stored-history sizes: 10k,100k,1m (default; --quick: 10k)
  --workers LIST      scanner worker processes for the scale scenario (default 1,2,4)
  --searches N        history searches per growth size (default 200)
  --stats-per-day N   stats: verdicts a day of the tenant whose 30 days of aggregates are seeded (default 200k)
  --stats-requests N  stats: dashboard requests over those 30 days (default 100)
  --cpu-prof          profile the app processes (node --cpu-prof) and print their top functions
  --inline-scan | --no-inline-scan  the journal ingest scans the copies it stored itself (default, as the app's
                      INGEST_INLINE_SCAN default) or queues every scan for the scanner workers
  --rate N            tail: offered msgs/s (default: half the e2e median of the same run, so e2e must run too)
  --tail-variants LIST  tail: base,no-flush,checkpoint,no-autovacuum,warm (default base,no-flush): half-load runs
                      with one suspect of the p99 250 → verdict switched off each, alternately per round
  --inline-delivery | --no-inline-delivery  the gateway delivers the messages it stored itself (default, as the
                      app's GATEWAY_INLINE_DELIVERY default) or queues every delivery for the delivery worker
  --smtp-processes N  processes of the journal ingest and of the gateway scanner, sharing one SMTP port
                      (SMTP_REUSE_PORT) with an HTTP port each (default 1); CPU per message summed over them
  --quick             small run for development: fewer messages, 1 round, growth 10k only`;

const DEFAULTS: Omit<BenchOptions, 'quick'> = {
  messages: 5000,
  sizeBytes: 20 * 1024,
  connections: 8,
  rounds: 3,
  reuse: true,
  scenarios: SCENARIOS.filter((name) => name !== 'tail'),
  growth: [10_000, 100_000, 1_000_000],
  workers: [1, 2, 4],
  searches: 200,
  statsPerDay: 200_000,
  statsRequests: 100,
  cpuProf: false,
  inlineScan: true,
  rate: null,
  tailVariants: ['base', 'no-flush'],
  inlineDelivery: true,
  smtpProcesses: 1,
};

const QUICK: Partial<BenchOptions> = { messages: 300, rounds: 1, growth: [10_000], searches: 60 };

/** `10k`, `1m`, `5,000`, `2500` → a positive integer. */
export function parseCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.replace(/[,_]/g, '').trim());
  const value = match ? Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase() as 'k' | 'm'] ?? 1) : Number.NaN;
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`not a positive count: "${text}"`);
  }
  return value;
}

/** `20kb`, `1mb`, `20480` → bytes (binary units, as SMTP_MAX_MESSAGE_SIZE reads them). */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*(b|kb|k|mb|m)?$/i.exec(text.trim());
  if (!match || Number(match[1]) <= 0) {
    throw new Error(`not a size: "${text}" (use e.g. 20kb, 1mb or 20480)`);
  }
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  return Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : 1);
}

/** Processes of one app on this host: 1 to 16 (more only share the same cores, and each opens its own pools). */
function parseProcessCount(text: string): number {
  const count = parseCount(text);
  if (count > 16) {
    throw new Error(`at most 16 processes, not ${count}`);
  }
  return count;
}

function parseList<T>(text: string, parseItem: (item: string) => T): T[] {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) {
    throw new Error('empty list');
  }
  return items.map(parseItem);
}

function parseScenario(name: string): Scenario {
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
  }
  return name as Scenario;
}

function parseTailVariant(name: string): TailVariant {
  if (!(TAIL_VARIANTS as readonly string[]).includes(name)) {
    throw new Error(`unknown variant "${name}" (known: ${TAIL_VARIANTS.join(', ')})`);
  }
  return name as TailVariant;
}

/** Flags that take a value, and where the value goes. */
const VALUE_FLAGS: Record<string, (value: string) => Partial<BenchOptions>> = {
  '--messages': (value) => ({ messages: parseCount(value) }),
  '--size': (value) => ({ sizeBytes: parseSize(value) }),
  '--connections': (value) => ({ connections: parseCount(value) }),
  '--rounds': (value) => ({ rounds: parseCount(value) }),
  '--searches': (value) => ({ searches: parseCount(value) }),
  '--stats-per-day': (value) => ({ statsPerDay: parseCount(value) }),
  '--stats-requests': (value) => ({ statsRequests: parseCount(value) }),
  '--scenarios': (value) => ({ scenarios: [...new Set(parseList(value, parseScenario))] }),
  '--growth': (value) => ({ growth: [...new Set(parseList(value, parseCount))].sort((a, b) => a - b) }),
  '--rate': (value) => ({ rate: parseCount(value) }),
  '--tail-variants': (value) => ({ tailVariants: [...new Set(parseList(value, parseTailVariant))] }),
  '--workers': (value) => ({ workers: [...new Set(parseList(value, parseCount))].sort((a, b) => a - b) }),
  '--smtp-processes': (value) => ({ smtpProcesses: parseProcessCount(value) }),
};

/** Flags without a value. */
const SWITCHES: Record<string, Partial<BenchOptions>> = {
  '--reuse': { reuse: true },
  '--no-reuse': { reuse: false },
  '--cpu-prof': { cpuProf: true },
  '--inline-scan': { inlineScan: true },
  '--no-inline-scan': { inlineScan: false },
  '--inline-delivery': { inlineDelivery: true },
  '--no-inline-delivery': { inlineDelivery: false },
  '--quick': { quick: true },
};

/**
 * Reads `npm run bench -- ...` arguments. Values given explicitly win over --quick's, whatever their order;
 * an unknown flag or a bad value throws naming it, so a typo never runs a long benchmark with defaults.
 */
export function parseArgs(argv: readonly string[]): BenchOptions {
  let given: Partial<BenchOptions> = {};
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index]!;
    try {
      const setValue = VALUE_FLAGS[flag];
      if (setValue) {
        const value = argv[++index];
        if (value === undefined || value.startsWith('--')) {
          throw new Error('needs a value');
        }
        given = { ...given, ...setValue(value) };
      } else if (SWITCHES[flag]) {
        given = { ...given, ...SWITCHES[flag] };
      } else {
        throw new Error('unknown option');
      }
    } catch (error) {
      throw new Error(`${flag}: ${(error as Error).message}\n${USAGE}`);
    }
  }
  const quick = given.quick ?? false;
  return { ...DEFAULTS, ...(quick ? QUICK : {}), ...given, quick };
}
