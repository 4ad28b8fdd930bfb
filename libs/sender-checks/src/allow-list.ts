import type { AddressList } from '@mailwarden/policy';
import { domainOf } from './address';
import type { AllowListMatch } from './sender-checks.types';

/** Inbound allow list: exact addresses, and domains including their subdomains (lower-case entries). */
export function matchAllowList(list: AddressList, identities: { identity: AllowListMatch['identity']; address: string }[]): AllowListMatch | null {
  for (const { identity, address } of identities) {
    const normalised = address.trim().toLowerCase();
    if (!normalised.includes('@')) {
      continue;
    }
    const addressEntry = list.addresses.find((entry) => entry.toLowerCase() === normalised);
    if (addressEntry) {
      return { identity, address, entry: addressEntry, kind: 'address' };
    }
    const domain = domainOf(normalised);
    const domainEntry = list.domains.find((entry) => {
      const d = entry.toLowerCase().replace(/^\.+|\.$/g, '');
      return !!d && (domain === d || domain.endsWith(`.${d}`));
    });
    if (domainEntry) {
      return { identity, address, entry: domainEntry, kind: 'domain' };
    }
  }
  return null;
}
