import { Inject, Injectable, Optional } from '@nestjs/common';
import { ScanContextRepository, type Account, type Domain, type MailboxTarget, type Policy } from '@mailwarden/db';
import type { PolicyScopeContext } from './effective-policies';

/** How long a scan reuses an account's policies and mailboxes (ms); injectable so tests can shorten it. */
export const SCAN_CONTEXT_TTL_MS = Symbol('SCAN_CONTEXT_TTL_MS');

/**
 * Seconds, not minutes: an admin's policy change applies to the next message within this long in every scanner
 * process (there is no cross-process invalidation), while a burst of mail for one account does not cost four
 * queries per message (policies, users, memberships, groups).
 */
export const DEFAULT_SCAN_CONTEXT_TTL_MS = 5_000;
/** Entries kept before the cache is emptied and refilled (bounds memory with many accounts and mailboxes). */
const MAX_ENTRIES = 50_000;

interface Entry<T> {
  at: number;
  value: T;
}

/**
 * What every scan reads besides the message (the account's policy rows and the mailboxes of its recipients),
 * cached per process for a few seconds. Shared by the gateway's SMTP front and the scan workers.
 */
@Injectable()
export class ScanContextCache {
  private readonly policies = new Map<string, Entry<Promise<Policy[]>>>();
  private readonly accounts = new Map<string, Entry<Promise<(Account & { domains: Domain[] }) | null>>>();
  /** One entry per account and address; null records "not a mailbox of the account" so misses are cached too. */
  private readonly mailboxes = new Map<string, Entry<MailboxTarget | null>>();
  private readonly ttlMs: number;

  constructor(
    private readonly repository: ScanContextRepository,
    @Optional() @Inject(SCAN_CONTEXT_TTL_MS) ttlMs?: number,
  ) {
    this.ttlMs = ttlMs ?? DEFAULT_SCAN_CONTEXT_TTL_MS;
  }

  /** The account's and its partner's policy rows; concurrent callers share one query. A failed query is not kept. */
  loadPolicies(accountId: string, partnerId: string | null): Promise<Policy[]> {
    return this.shared(this.policies, `${accountId}/${partnerId ?? ''}`, () => this.repository.loadPolicies(accountId, partnerId));
  }

  /**
   * The account with its domains (monitor-only flag, verified domains), shared and kept like the policies.
   * `fresh`: read it now whatever is kept (and keep that), for a decision that must not rest on a mode up to
   * {@link DEFAULT_SCAN_CONTEXT_TTL_MS} old.
   */
  loadAccount(accountId: string, options: { fresh?: boolean } = {}): Promise<(Account & { domains: Domain[] }) | null> {
    if (options.fresh) {
      this.accounts.delete(accountId);
    }
    return this.shared(this.accounts, accountId, () => this.repository.findAccount(accountId));
  }

  /**
   * Everything policy resolution needs for one message (DESIGN.md §5): the account's and partner's policies, the
   * verified domains' ids and the mailboxes among the message's addresses. The one builder of a
   * {@link PolicyScopeContext}, shared by the gateway's SMTP front and the scan workers.
   */
  async policyContext(account: Pick<Account, 'id' | 'partnerId'>, verifiedDomains: ReadonlyArray<Pick<Domain, 'id' | 'name'>>, addresses: readonly string[]): Promise<PolicyScopeContext> {
    const [policies, mailboxes] = await Promise.all([this.loadPolicies(account.id, account.partnerId), this.findMailboxes(account.id, addresses)]);
    return { accountId: account.id, partnerId: account.partnerId, domainIds: new Map(verifiedDomains.map((domain) => [domain.name, domain.id])), mailboxes, policies };
  }

  /** The account's mailboxes among these addresses (lower-case keys); only addresses not seen lately are queried. */
  async findMailboxes(accountId: string, emails: readonly string[]): Promise<Map<string, MailboxTarget>> {
    const addresses = [...new Set(emails.map((email) => email.toLowerCase()))];
    const found = new Map<string, MailboxTarget>();
    const missing: string[] = [];
    for (const address of addresses) {
      const cached = this.mailboxes.get(`${accountId}/${address}`);
      if (cached && this.fresh(cached)) {
        if (cached.value) found.set(address, cached.value);
      } else {
        missing.push(address);
      }
    }
    if (missing.length > 0) {
      const loaded = await this.repository.findMailboxes(accountId, missing);
      const at = Date.now();
      for (const address of missing) {
        const mailbox = loaded.get(address) ?? null;
        this.remember(this.mailboxes, `${accountId}/${address}`, { at, value: mailbox });
        if (mailbox) found.set(address, mailbox);
      }
    }
    return found;
  }

  private shared<T>(map: Map<string, Entry<Promise<T>>>, key: string, load: () => Promise<T>): Promise<T> {
    const cached = map.get(key);
    if (cached && this.fresh(cached)) {
      return cached.value;
    }
    const entry = { at: Date.now(), value: load() };
    this.remember(map, key, entry);
    entry.value.catch(() => {
      if (map.get(key) === entry) {
        map.delete(key);
      }
    });
    return entry.value;
  }

  private fresh(entry: Entry<unknown>): boolean {
    return Date.now() - entry.at < this.ttlMs;
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>): void {
    if (map.size >= MAX_ENTRIES) {
      map.clear();
    }
    map.set(key, entry);
  }
}
