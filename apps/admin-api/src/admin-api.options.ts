import type { Microsoft365ModuleOptions } from '@mailwarden/microsoft365';
import type { DnsResolveFunction } from '@mailwarden/sender-checks';

/** What tests (or an embedding process) may replace in the admin API. */
export interface AdminApiOverrides {
  /**
   * Upstream DNS of domain verification (TXT) and migration checks (MX), in place of the resolvers of `DNS_SERVERS`;
   * the admin API's cache still sits in front of it.
   */
  resolveDns?: DnsResolveFunction;
  /** Quiet period of the "journal rules removed" migration check (default 10 minutes). */
  journalQuietPeriodMs?: number;
  /** How long the domain quick test waits for delivery (default 30 s). */
  quickTestTimeoutMs?: number;
  /** Mimecast base URLs over http (local fake servers in tests). */
  allowHttpMimecastBaseUrl?: boolean;
  /** The OpenID Connect issuer over plain http (the local fake identity platform in tests). */
  allowHttpOidcIssuer?: boolean;
  /** Microsoft 365 timings that are not environment settings: Graph retries, consent token retries, remediation lease (tests shorten them). */
  microsoft365?: Pick<Microsoft365ModuleOptions, 'graph' | 'consentTokenRetries' | 'remediationLeaseMs'>;
}
