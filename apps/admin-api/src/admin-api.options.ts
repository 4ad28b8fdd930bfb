import type { GraphClientOptions } from '@mailwarden/microsoft365';
import type { DnsResolve } from './common/dns-resolve';

/** What tests (or an embedding process) may replace in the admin API. */
export interface AdminApiOverrides {
  /** DNS for domain verification (TXT) and migration checks (MX); default: the system resolver with a short cache. */
  resolveDns?: DnsResolve;
  /** Quiet period of the "journal rules removed" migration check (default 10 minutes). */
  journalQuietPeriodMs?: number;
  /** Mimecast base URLs over http (local fake servers in tests). */
  allowHttpMimecastBaseUrl?: boolean;
  /** Graph client retry settings (tests shorten waits). */
  microsoft365Graph?: Omit<GraphClientOptions, 'limiter' | 'signal'>;
  /** Retries of the token that proves a consenting tenant (default 3, 2 s apart; tests: 0). */
  microsoft365ConsentTokenRetries?: number;
}
