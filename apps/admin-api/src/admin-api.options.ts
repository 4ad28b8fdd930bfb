import type { Microsoft365ModuleOptions } from '@mailwarden/microsoft365';
import type { DnsResolve } from './common/dns-resolve';

/** What tests (or an embedding process) may replace in the admin API. */
export interface AdminApiOverrides {
  /** DNS for domain verification (TXT) and migration checks (MX); default: the system resolver with a short cache. */
  resolveDns?: DnsResolve;
  /** Quiet period of the "journal rules removed" migration check (default 10 minutes). */
  journalQuietPeriodMs?: number;
  /** Mimecast base URLs over http (local fake servers in tests). */
  allowHttpMimecastBaseUrl?: boolean;
  /** Microsoft 365 timings that are not environment settings: Graph retries, consent token retries, remediation lease (tests shorten them). */
  microsoft365?: Pick<Microsoft365ModuleOptions, 'graph' | 'consentTokenRetries' | 'remediationLeaseMs'>;
}
