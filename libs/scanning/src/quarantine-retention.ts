import { MAX_RETENTION } from '@mailwarden/policy';

/**
 * How long a quarantined message is held at most (and a "would have been quarantined" entry listed): the platform's
 * ceiling. The tenant's own window (its RETENTION policy's `quarantineDays`, under its partner's ceiling, issue 20)
 * applies on top of it: the retention purge expires an item at the stored expiry or `quarantineDays` after it was
 * made, whichever comes first, and the admin API shows that time as `expiresAt`. Storing the ceiling, not a tenant's
 * window, means a window changed later (longer or shorter) applies to the items already held.
 */
export const QUARANTINE_RETENTION_DAYS = MAX_RETENTION.quarantineDays;

/** The stored expiry of a quarantine item created at `now`: the one rule the gateway front and the scan workers share. */
export function quarantineExpiry(now = Date.now()): Date {
  return new Date(now + QUARANTINE_RETENTION_DAYS * 86_400_000);
}
