import { MAX_RETENTION, resolveRetention } from '@mailwarden/policy';
import { quarantineExpiry } from './quarantine-retention';

const DAY_MS = 86_400_000;

describe('quarantineExpiry', () => {
  const now = Date.UTC(2026, 11, 5, 12);
  /** What the purge and the admin API apply: the stored expiry, or the tenant's window after creation if sooner. */
  const effective = (quarantineDays: number) => Math.min(quarantineExpiry(now).getTime(), now + quarantineDays * DAY_MS);

  it.each([1, 7, 30, 31, 60, 180, MAX_RETENTION.quarantineDays])('should let a tenant window of %i days decide, never cut it short', (days) => {
    const { quarantineDays } = resolveRetention({ quarantineDays: days }, null, 30);
    expect(quarantineDays).toBe(days);
    expect(effective(quarantineDays)).toBe(now + days * DAY_MS);
  });

  it('should still bound an item whose tenant has no window at the platform ceiling', () => {
    expect(quarantineExpiry(now).getTime()).toBe(now + MAX_RETENTION.quarantineDays * DAY_MS);
  });
});
