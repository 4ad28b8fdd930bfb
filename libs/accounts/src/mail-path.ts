import type { Account, Domain, DomainMode } from '@mailwarden/db';
import { isInScope } from './message-direction';

/**
 * The three ways mail of a domain reaches Mailwarden: journal copies (JOURNAL), the MX gateway from any client
 * (GATEWAY), and the tenant's Microsoft 365 connector (MAILFLOW).
 */
export type MailPath = DomainMode;

/** The domain as the receiving path sees it; `null` when no account has the name. */
export type PathDomain = Pick<Domain, 'name' | 'mode' | 'transitionMode' | 'verificationStatus'> & { account: Pick<Account, 'monitorOnly'> };

export type PathDecision =
  /** `path`: the path the mail is taken on (a connector client of a GATEWAY-only domain is plain gateway traffic). */
  | { accept: true; path: MailPath; inTransition: boolean }
  /** TEMPORARY (4xx: the sender retries) while the domain is in transition; PERMANENT (5xx) in a steady state. */
  | { accept: false; reply: 'TEMPORARY' | 'PERMANENT'; reason: string };

/** The paths a domain accepts mail on right now: its mode's, and during a migration its other mode's too. */
export function acceptedPaths(domain: Pick<Domain, 'mode' | 'transitionMode'>): Set<MailPath> {
  return new Set<MailPath>(domain.transitionMode ? [domain.mode, domain.transitionMode] : [domain.mode]);
}

/**
 * Does this domain accept mail on this path right now, and with which reply (DESIGN.md §2)? The one place the
 * SMTP fronts ask. In a steady state a domain accepts on its mode's path only (anything else: 5xx, no open
 * relay). While a migration moves it (`transitionMode` set) it accepts on both its old and new paths, and
 * anything refused gets a 4xx, never a 5xx, so a sender whose MX or connector changed a moment early retries
 * instead of bouncing. Unknown and unverified domains are refused for good on the SMTP paths.
 *
 * The JOURNAL path never refuses by domain (the journal address names the tenant): its decision says whether
 * journal copies of the domain are scanned (accept) or recorded as out of scope (refuse).
 */
export function pathDecision(domain: PathDomain | null, client: { path: 'JOURNAL' } | { path: 'SMTP'; fromConnector: boolean }): PathDecision {
  if (!domain || !isInScope(domain)) {
    return { accept: false, reply: 'PERMANENT', reason: 'is not a verified domain served here' };
  }
  const paths = acceptedPaths(domain);
  const inTransition = domain.transitionMode !== null && domain.transitionMode !== domain.mode;
  const refuse = (reason: string): PathDecision => ({ accept: false, reply: inTransition ? 'TEMPORARY' : 'PERMANENT', reason });
  if (client.path === 'JOURNAL') {
    return paths.has('JOURNAL') ? { accept: true, path: 'JOURNAL', inTransition } : refuse(`is in ${domain.mode} mode: its journal copies are not scanned`);
  }
  if (client.fromConnector && paths.has('MAILFLOW')) {
    return { accept: true, path: 'MAILFLOW', inTransition };
  }
  if (paths.has('GATEWAY')) {
    // A monitor-only account reaches here only in transition (the triggers keep its mode JOURNAL): mail is
    // accepted and delivered, its actions decided and never applied.
    return { accept: true, path: 'GATEWAY', inTransition };
  }
  if (paths.has('MAILFLOW')) {
    return refuse('receives mail through its Microsoft 365 connector only');
  }
  return refuse('is in monitor-only (journal) mode and does not receive mail through Mailwarden');
}
