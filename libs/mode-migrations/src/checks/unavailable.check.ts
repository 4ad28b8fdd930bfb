import type { CheckResult } from '../migration-step.types';

/**
 * A check Mailwarden cannot run yet (the Microsoft 365 mailflow integration and the scanner's mailflow quick test
 * are not built): it never passes on its own; the admin may acknowledge the step after doing it by hand.
 */
export function unavailableCheck(check: string, reason: string): CheckResult {
  return {
    passed: false,
    available: false,
    message: `not available yet: ${reason}; do the step by hand, then advance with acknowledgeUnverifiable=true`,
    evidence: { check, available: false, reason },
  };
}
