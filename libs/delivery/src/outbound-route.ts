import type { DownstreamRoute } from './prepare-copy';

/**
 * The route of an `OUTBOUND_SMART_HOST` value: `host`, `host:port`, `[IPv6]` or `[IPv6]:port` (port 25 when
 * absent); null for '' (no smart host: outbound mail goes to each recipient domain's MX).
 */
export function smartHostRoute(value: string, tls: { requireTls: boolean; verifyCert: boolean }): DownstreamRoute | null {
  const trimmed = value.trim();
  if (trimmed === '') {
    return null;
  }
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i.exec(trimmed);
  if (!match) {
    throw new Error(`not a smart host: ${trimmed}`);
  }
  return { host: (match[1] ?? match[2]!).toLowerCase(), port: Number(match[3] ?? 25), ...tls };
}

/**
 * The hosts that receive mail for a domain, from its MX records (RFC 5321 5.1): by preference; none for a null MX
 * (RFC 7505: a single `.`), which means the domain accepts no mail.
 */
export function mailExchangersOf(records: ReadonlyArray<{ exchange: string; priority: number }>): string[] {
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.')) {
    return [];
  }
  return [...records]
    .filter((record) => record.exchange !== '' && record.exchange !== '.')
    .sort((a, b) => a.priority - b.priority)
    .map((record) => record.exchange.replace(/\.$/, '').toLowerCase());
}

/**
 * Opportunistic TLS towards an MX (RFC 3207 4.1; RFC 7435): STARTTLS when offered, the certificate not verified,
 * since MX host names are not authenticated without DANE or MTA-STS, which Mailwarden does not implement yet.
 */
export const mxRoute = (host: string): DownstreamRoute => ({ host, port: 25, requireTls: false, verifyCert: false });
