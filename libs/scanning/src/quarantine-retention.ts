/** How long a quarantined message is held (and a "would have been quarantined" entry listed) before it expires. */
export const QUARANTINE_RETENTION_DAYS = 30;

/** The expiry of a quarantine item created at `now`: the one rule the gateway front and the scan workers share. */
export function quarantineExpiry(now = Date.now()): Date {
  return new Date(now + QUARANTINE_RETENTION_DAYS * 86_400_000);
}
