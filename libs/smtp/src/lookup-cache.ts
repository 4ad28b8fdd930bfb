/**
 * RCPT-time lookups of an SMTP front (a journal address's account, a recipient domain's routing), reused for a few
 * seconds: a burst of mail for one tenant costs one query, not one per recipient, and an admin's change (a domain
 * leaving gateway mode, new journal source ranges) still applies within `ttlMs`. Answers are cached, "not found"
 * (null) included; a failed lookup is not, and concurrent lookups of one key share a single query.
 */
export class LookupCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) {
      return cached.value;
    }
    if (this.entries.size >= this.maxEntries) {
      this.entries.clear();
    }
    const entry = { at: this.now(), value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) {
        this.entries.delete(key);
      }
    });
    return entry.value;
  }
}
