import { Registry } from 'prom-client';
import { boundedLabel, counter, metricsIn } from '@mailwarden/observability';

const RRTYPES: ReadonlySet<string> = new Set(['A', 'AAAA', 'MX', 'TXT', 'PTR', 'CNAME', 'NS', 'SOA']);
const RESULT_OF_CODE: Readonly<Record<string, string>> = {
  ENOTFOUND: 'nxdomain',
  ENODATA: 'nodata',
  ETIMEOUT: 'timeout',
  ESERVFAIL: 'servfail',
  EREFUSED: 'refused',
  ECONNREFUSED: 'refused',
};

const DNS_METRICS = {
  lookups: counter('mailwarden_dns_lookups_total', 'DNS lookups of the caching resolver, by record type and where the answer came from', ['type', 'source']),
  upstream: counter(
    'mailwarden_dns_upstream_queries_total',
    'Queries the caching resolver sent upstream, by record type and result (timeout, servfail, refused, error: temporary errors)',
    ['type', 'result'],
  ),
};

/** Where an answer of the caching resolver came from. */
export type DnsLookupSource = 'cache' | 'negative_cache' | 'coalesced' | 'upstream';

/**
 * The caching resolver's figures: every lookup by where its answer came from (cache hit rate:
 * `cache` + `negative_cache` over all) and every upstream query by result (temporary errors: timeout, servfail,
 * refused, error). Labels: the record type and a fixed set of results, never the name asked.
 */
export class DnsMetrics {
  private readonly metrics;

  constructor(registry: Registry = new Registry()) {
    this.metrics = metricsIn(registry, DNS_METRICS);
  }

  lookup(type: string, source: DnsLookupSource): void {
    this.metrics.lookups.inc({ type: boundedLabel(type, RRTYPES), source });
  }

  /** `code`: null for an answer, else the node:dns error code. */
  upstreamResult(type: string, code: string | null): void {
    this.metrics.upstream.inc({ type: boundedLabel(type, RRTYPES), result: code === null ? 'answer' : (RESULT_OF_CODE[code] ?? 'error') });
  }
}
