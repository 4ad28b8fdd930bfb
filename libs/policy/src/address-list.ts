import type { AddressList } from './policy.types';

/** Lower-cases a domain and drops the root dot (`Example.COM.` → `example.com`). */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** Lower-cases an address and strips angle brackets; `<>` and empty give null (the null reverse-path, RFC 5321 4.5.5). */
export function normalizeAddress(address: string | null | undefined): string | null {
  if (address === null || address === undefined) {
    return null;
  }
  const bare = address.trim().replace(/^<(.*)>$/, '$1').trim().toLowerCase();
  return bare === '' ? null : bare.replace(/\.$/, '');
}

/** The domain of an address (after the last `@`, RFC 5321 4.1.2 allows `@` in a quoted local part), or null. */
export function domainOfAddress(address: string | null | undefined): string | null {
  const bare = normalizeAddress(address);
  if (bare === null) {
    return null;
  }
  const at = bare.lastIndexOf('@');
  if (at < 0 || at === bare.length - 1) {
    return null;
  }
  return normalizeDomain(bare.slice(at + 1));
}

/** A list entry that matched, with how specific it is: an exact address beats any domain; a longer domain beats a shorter one. */
export interface AddressListMatch {
  entry: string;
  kind: 'address' | 'domain';
  /** Exact address: Infinity; domain entry: its number of labels. */
  specificity: number;
}

/**
 * The most specific entry of `list` that matches `address`: the exact address, or a domain entry equal to the
 * address's domain or a parent of it (`example.com` matches `a@mail.example.com`). Null when nothing matches.
 */
export function matchAddressList(list: AddressList, address: string | null | undefined): AddressListMatch | null {
  const bare = normalizeAddress(address);
  if (bare === null) {
    return null;
  }
  if (list.addresses.some((entry) => normalizeAddress(entry) === bare)) {
    return { entry: bare, kind: 'address', specificity: Number.POSITIVE_INFINITY };
  }
  const domain = domainOfAddress(bare);
  if (domain === null) {
    return null;
  }
  let best: AddressListMatch | null = null;
  for (const raw of list.domains) {
    const entry = normalizeDomain(raw);
    if (entry !== '' && (domain === entry || domain.endsWith(`.${entry}`))) {
      const specificity = entry.split('.').length;
      if (best === null || specificity > best.specificity) {
        best = { entry, kind: 'domain', specificity };
      }
    }
  }
  return best;
}
