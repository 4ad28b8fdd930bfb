/** Injection token of the DNS resolve function (TXT for domain verification, MX for migration checks). */
export const DNS_RESOLVE = Symbol('DNS_RESOLVE');

/** Resolves like `dns.promises.resolve(name, rrtype)`; tests inject a zone. */
export type DnsResolve = (name: string, rrtype: string) => Promise<unknown[]>;
