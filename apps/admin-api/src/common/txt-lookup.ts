import { CachingDnsResolver, NEGATIVE_DNS_CODES } from '@mailwarden/sender-checks';

/** What one TXT lookup through the admin API's resolver found (domain verification, DKIM record checks). */
export interface TxtLookup {
  /** The records, each one's strings joined (RFC 7208 3.3 / RFC 6376 3.6.2.2). */
  txtRecords: string[];
  /** A failure that decides nothing (timeout, SERVFAIL); null for an answer, NXDOMAIN and NODATA included. */
  dnsError: string | null;
  /** The answer (or "no such record") came from the resolver's short cache. */
  fromCache: boolean;
}

/** Looks up the TXT records at `name` (DNS_SERVERS), from the short cache unless `bypassCache`. */
export async function lookupTxt(dns: CachingDnsResolver, name: string, bypassCache: boolean): Promise<TxtLookup> {
  try {
    const answer = await dns.resolveDetailed(name, 'TXT', { bypassCache });
    return { txtRecords: answer.records.map((record) => (Array.isArray(record) ? record.join('') : String(record))), dnsError: null, fromCache: answer.fromCache };
  } catch (error) {
    const { code, fromCache } = error as { code?: string; fromCache?: boolean };
    const negative = code !== undefined && NEGATIVE_DNS_CODES.has(code);
    return { txtRecords: [], dnsError: negative ? null : (code ?? (error as Error).message), fromCache: fromCache === true };
  }
}
