import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { Registry } from 'prom-client';
import { DnsMetrics } from './dns-metrics';

/**
 * The resolver shape mailauth calls: `resolver(name, rrtype)` resolving like `dns.promises.resolve`
 * (TXT → string[][], MX → {exchange, priority}[], A/AAAA/PTR/CNAME → string[]) and rejecting with
 * an error whose `code` is a c-ares code (ENOTFOUND = NXDOMAIN, ENODATA = no record of that type,
 * ETIMEOUT, ESERVFAIL, ...).
 */
export type DnsResolveFunction = (name: string, rrtype: string) => Promise<unknown[]>;

/** One upstream answer: the records and, where the transport reports it, their TTL in seconds. */
export interface DnsAnswer {
  records: unknown[];
  ttlSeconds?: number;
}

/** The upstream of {@link CachingDnsResolver}; rejects with a coded error like node:dns does. */
export type DnsLookup = (name: string, rrtype: string, signal: AbortSignal) => Promise<DnsAnswer>;

/** DNS error codes that are answers (the name or the type does not exist), not failures. */
export const NEGATIVE_DNS_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA']);

export interface CachingDnsResolverOptions {
  /** Upstream lookups; defaults to {@link createSystemDnsLookup}. */
  lookup?: DnsLookup;
  /** Per-lookup deadline; an answer later than this is a timeout (ETIMEOUT → temperror). Default 5000 ms. */
  timeoutMs?: number;
  /** TTL used when the upstream reports none (node:dns reports TTLs for A/AAAA only). Default 300 s. */
  defaultTtlSeconds?: number;
  /** Upper bound for any cached positive answer. Default 3600 s. */
  maxTtlSeconds?: number;
  /** How long NXDOMAIN / NODATA answers are kept (RFC 2308 allows caching them; we bound it). Default 60 s. */
  negativeTtlSeconds?: number;
  /** Most entries kept; the oldest are evicted first. Default 10000. */
  maxEntries?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** The app's metrics registry: lookups by source (cache hit rate) and upstream results (`DnsMetrics`). */
  registry?: Registry;
}

interface CacheEntry {
  expiresAt: number;
  records?: unknown[];
  error?: DnsError;
}

/** A DNS failure with a node:dns style code. */
export class DnsError extends Error {
  constructor(
    readonly code: string,
    readonly hostname: string,
    readonly rrtype: string,
  ) {
    super(`query${rrtype} ${code} ${hostname}`);
    this.name = 'DnsError';
  }
}

/** An answer of {@link CachingDnsResolver.resolveDetailed}: the records, and whether the cache gave them. */
export interface DnsResolution {
  records: unknown[];
  /** True when no upstream query was made for this call (a cached answer). */
  fromCache: boolean;
}

/** Options of {@link CachingDnsResolver.resolveDetailed}. */
export interface DnsResolveOptions {
  /** Ask the upstream even when the cache holds an answer; the fresh answer then replaces the cached one. */
  bypassCache?: boolean;
}

/** A lookup that did not answer within the resolver's deadline. */
export class DnsTimeoutError extends DnsError {
  constructor(hostname: string, rrtype: string, timeoutMs: number) {
    super('ETIMEOUT', hostname, rrtype);
    this.message = `DNS ${rrtype} lookup for ${hostname} timed out after ${timeoutMs} ms`;
    this.name = 'DnsTimeoutError';
  }
}

/**
 * Caching, coalescing DNS resolver for the sender checks.
 * - Positive answers are kept for their TTL (bounded by maxTtlSeconds).
 * - NXDOMAIN / NODATA are kept for negativeTtlSeconds: a sender domain without DMARC or SPF is asked once.
 * - Concurrent identical lookups share one upstream query.
 * - Every lookup has a deadline; timeouts and server failures are never cached, so the next
 *   message (or the scan retry) asks again.
 * `resolve` has mailauth's resolver shape and can be passed to it as is.
 */
export class CachingDnsResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<unknown[]>>();
  private readonly lookup: DnsLookup;
  private readonly timeoutMs: number;
  private readonly defaultTtlSeconds: number;
  private readonly maxTtlSeconds: number;
  private readonly negativeTtlSeconds: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly metrics: DnsMetrics;

  constructor(options: CachingDnsResolverOptions = {}) {
    this.metrics = new DnsMetrics(options.registry);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.lookup = options.lookup ?? createSystemDnsLookup({ timeoutMs: this.timeoutMs });
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? 300;
    this.maxTtlSeconds = options.maxTtlSeconds ?? 3600;
    this.negativeTtlSeconds = options.negativeTtlSeconds ?? 60;
    this.maxEntries = options.maxEntries ?? 10000;
    this.now = options.now ?? Date.now;
    for (const [name, value] of Object.entries({ timeoutMs: this.timeoutMs, maxEntries: this.maxEntries })) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`CachingDnsResolver: ${name} must be a positive number, got ${value}`);
      }
    }
  }

  /** Resolves like `dns.promises.resolve(name, rrtype)`, from the cache when it can. */
  readonly resolve: DnsResolveFunction = (name, rrtype = 'A') => this.resolveDetailed(name, rrtype).then((resolution) => resolution.records);

  /**
   * Resolves like {@link resolve} and says whether the answer came from the cache; `bypassCache` asks the upstream
   * whatever is cached (an admin's "check now"). A failure rejects with the {@link DnsError}; a cached negative
   * answer carries `fromCache: true` on the error.
   */
  resolveDetailed(name: string, rrtype = 'A', options: DnsResolveOptions = {}): Promise<DnsResolution> {
    const type = String(rrtype).toUpperCase();
    const key = `${type} ${normaliseName(name)}`;
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.expiresAt > this.now() && !options.bypassCache) {
        this.metrics.lookup(type, cached.error ? 'negative_cache' : 'cache');
        if (cached.error) {
          return Promise.reject(cachedNegativeAnswer(cached.error));
        }
        return Promise.resolve({ records: cached.records!.slice(), fromCache: true });
      }
      this.cache.delete(key);
    }
    // A query already in flight started after any cached answer was read: it is as fresh as a new one.
    let query = this.inFlight.get(key);
    if (query) {
      this.metrics.lookup(type, 'coalesced');
    } else {
      this.metrics.lookup(type, 'upstream');
      query = this.query(name, type, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, query);
    }
    return query.then((records) => ({ records: records.slice(), fromCache: false }));
  }

  /** Number of cached entries (expired ones included until they are next read). */
  get size(): number {
    return this.cache.size;
  }

  clear(): void {
    this.cache.clear();
  }

  private async query(name: string, type: string, key: string): Promise<unknown[]> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DnsTimeoutError(name, type, this.timeoutMs));
      }, this.timeoutMs);
    });
    try {
      const answer = await Promise.race([this.lookup(name, type, controller.signal), deadline]);
      this.metrics.upstreamResult(type, null);
      const ttl = Math.min(Math.max(answer.ttlSeconds ?? this.defaultTtlSeconds, 0), this.maxTtlSeconds);
      if (ttl > 0) {
        this.store(key, { expiresAt: this.now() + ttl * 1000, records: answer.records.slice() });
      }
      return answer.records;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.metrics.upstreamResult(type, typeof code === 'string' ? code : 'EUNKNOWN');
      if (typeof code === 'string' && NEGATIVE_DNS_CODES.has(code) && this.negativeTtlSeconds > 0) {
        const error = err instanceof DnsError ? err : new DnsError(code, name, type);
        this.store(key, { expiresAt: this.now() + this.negativeTtlSeconds * 1000, error });
        throw error;
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private store(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    // Map iteration order is insertion order: the first keys are the oldest.
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}

/**
 * A fresh error for a cached NXDOMAIN / NODATA (callers may keep or change what they are given), made without a stack
 * trace: a cache hit is an answer, and capturing the stack of each one cost 1 % of the journal ingest's CPU (mailauth
 * asks several names per message that do not exist; tools/bench/README.md "Node CPU of a scan").
 */
function cachedNegativeAnswer(error: DnsError): DnsError {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new DnsError(error.code, error.hostname, error.rrtype), { fromCache: true });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function normaliseName(name: string): string {
  return String(name).trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Upstream lookups through node:dns (c-ares). A and AAAA are asked with `{ ttl: true }` so their
 * TTL is honoured; node:dns exposes no TTL for the other types, which then use the default TTL.
 */
export function createSystemDnsLookup(options: { timeoutMs: number; servers?: string[] }): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
  if (options.servers?.length) {
    resolver.setServers(options.servers);
  }
  // The signal is not wired to resolver.cancel(): that would cancel every query in flight on this
  // resolver, not just the late one. c-ares stops on its own timeout, set to the same deadline.
  return async (name, rrtype) => {
    switch (rrtype) {
      case 'A':
      case 'AAAA': {
        const rows = rrtype === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
        return {
          records: rows.map((row) => row.address),
          ttlSeconds: rows.length ? Math.min(...rows.map((row) => row.ttl)) : undefined,
        };
      }
      default:
        return { records: (await resolver.resolve(name, rrtype as 'TXT')) as unknown[] };
    }
  };
}

/**
 * Parses `DNS_SERVERS` ("10.0.0.53, 127.0.0.1:5353, [::1]:53"): empty means the system resolvers. Throws naming the
 * first entry that is not an IP address with an optional port, so a typo stops the app at start, not at the first lookup.
 */
export function parseDnsServers(list: string): string[] {
  const servers = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const server of servers) {
    const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(server) ?? /^([^:]+)(?::(\d+))?$/.exec(server) ?? [server, server, undefined];
    const [, host, port] = match;
    const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
    if (isIP(host) === 0 || !portOk) {
      throw new Error(`DNS_SERVERS: "${server}" is not an IP address with an optional port`);
    }
  }
  return servers;
}
