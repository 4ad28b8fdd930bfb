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

/**
 * How the receiving path established whether the message came from outside (DESIGN.md §2):
 * - `provider-edge-hop`: the provider's inbound edge (Exchange Online Protection, mx.google.com) recorded an
 *   outside client in its Received field: the message entered from the internet;
 * - `no-provider-edge-hop`: no such hop: the message stayed inside the provider (or its edge hop is missing);
 * - `gateway-client`: an SMTP client that is not the tenant's Microsoft 365 connector handed it to the gateway;
 * - `tenant-connector`: the tenant's own Microsoft 365 connector handed it over and no edge hop shows it entered
 *   Exchange Online from outside.
 */
export type DirectionBasis = 'provider-edge-hop' | 'no-provider-edge-hop' | 'gateway-client' | 'tenant-connector';

/** What the path that received the message knows about where it came from. */
export interface ArrivalEvidence {
  /** The message crossed the provider's inbound edge, or reached the gateway, from an outside client. */
  enteredFromOutside: boolean;
  basis: DirectionBasis;
  /** The Received field or client address that shows it, for the evidence. */
  detail?: string | null;
}

/** The direction with the evidence it was decided from; stored with the message (metadata.direction). */
export interface DirectionDecision {
  direction: MessageDirection;
  /** What the envelope domains alone say. */
  envelopeDirection: MessageDirection;
  enteredFromOutside: boolean;
  basis: DirectionBasis;
  detail: string | null;
  /** One sentence saying which rule decided. */
  rule: string;
}

/**
 * Direction from the provider's evidence first, then the envelope (DESIGN.md §2): a message that crossed the
 * provider's inbound edge (or the gateway) from an outside client is inbound, whatever its From and envelope
 * domains claim — a spoof of the tenant's own domain is exactly what must be scanned. Only a message that never
 * entered from outside can be internal or outbound; for one that did, the sender's domain is not trusted (INBOUND
 * when a recipient is the account's, EXTERNAL when none is).
 */
export function decideDirection(
  accountDomains: Iterable<string>,
  envelopeSender: string | null | undefined,
  recipients: readonly string[],
  arrival: ArrivalEvidence,
): DirectionDecision {
  const domains = [...accountDomains];
  const envelopeDirection = classifyDirection(domains, envelopeSender, recipients);
  const detail = arrival.detail ?? null;
  const base = { envelopeDirection, enteredFromOutside: arrival.enteredFromOutside, basis: arrival.basis, detail };
  if (!arrival.enteredFromOutside || envelopeDirection === 'INBOUND' || envelopeDirection === 'EXTERNAL') {
    const rule = arrival.enteredFromOutside
      ? `entered from outside (${arrival.basis}); the envelope agrees: ${envelopeDirection}`
      : `never entered from outside (${arrival.basis}): direction from the envelope domains`;
    return { direction: envelopeDirection, ...base, rule };
  }
  // The sender's own-domain claim is not evidence: judge the recipients alone.
  const direction = classifyDirection(domains, null, recipients);
  return {
    direction,
    ...base,
    rule: `entered from outside (${arrival.basis}) although the envelope sender claims one of the account's domains: ${direction}, not ${envelopeDirection}`,
  };
}
