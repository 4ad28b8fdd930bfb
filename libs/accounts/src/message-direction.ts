import type { Domain, MessageDirection } from '@mailwarden/db';
import { domainOfAddress } from '@mailwarden/policy';
import { AccountRuleCode, AccountRuleException } from './account-rules.errors';
import { normalizeDomainName } from './domain-mode';

/** DESIGN.md §2: only verified domains are scanned; mail for others is refused (gateway) or out of scope (journal). */
export function isInScope(domain: Pick<Domain, 'verificationStatus'>): boolean {
  return domain.verificationStatus === 'VERIFIED';
}

export type RecipientScope<D> = { status: 'IN_SCOPE'; domain: D } | { status: 'UNVERIFIED'; domain: D } | { status: 'UNKNOWN' };

/**
 * Which of the account's domains a recipient belongs to, and whether it is scanned. Exact match on the domain
 * (case-insensitive): a subdomain is not covered by its parent unless it is connected itself.
 */
export function recipientScope<D extends Pick<Domain, 'name' | 'verificationStatus'>>(domains: readonly D[], recipient: string): RecipientScope<D> {
  const domainName = domainOfAddress(recipient);
  const domain = domainName === null ? undefined : domains.find((candidate) => normalizeDomainName(candidate.name) === domainName);
  if (!domain) {
    return { status: 'UNKNOWN' };
  }
  return isInScope(domain) ? { status: 'IN_SCOPE', domain } : { status: 'UNVERIFIED', domain };
}

/**
 * Direction of a message relative to an account, from the envelope (DESIGN.md §2):
 * - INTERNAL: the sender's domain and every recipient's domain belong to the account (recorded as skipped);
 * - OUTBOUND: the sender's domain belongs to the account, at least one recipient's does not;
 * - INBOUND: the sender's domain does not, at least one recipient's does;
 * - EXTERNAL: neither side does (e.g. a journal copy of mail relayed for someone else).
 * `accountDomains` are the account's domain names; pass only verified ones, or anyone could make their mail
 * "internal" (and so unscanned) by connecting a domain they do not own. Matching is exact and case-insensitive
 * (a subdomain counts only when listed). The null reverse-path (`<>`, null, '') has no domain, so it is never internal.
 */
export function classifyDirection(accountDomains: Iterable<string>, envelopeSender: string | null | undefined, recipients: readonly string[]): MessageDirection {
  if (recipients.length === 0) {
    throw new AccountRuleException(AccountRuleCode.InvalidInput, 'classifyDirection needs at least one recipient');
  }
  const own = new Set([...accountDomains].map(normalizeDomainName));
  const belongs = (address: string | null | undefined): boolean => {
    const domain = domainOfAddress(address);
    return domain !== null && own.has(domain);
  };
  const senderIsOwn = belongs(envelopeSender);
  const ownRecipients = recipients.filter((recipient) => belongs(recipient)).length;
  if (senderIsOwn) {
    return ownRecipients === recipients.length ? 'INTERNAL' : 'OUTBOUND';
  }
  return ownRecipients > 0 ? 'INBOUND' : 'EXTERNAL';
}
