import type { Account, PolicyAction } from '@mailwarden/db';

/** DESIGN.md §2: actions are applied only when the account is not monitor-only (`enforced = !monitorOnly`). */
export function isEnforced(account: Pick<Account, 'monitorOnly'>): boolean {
  return !account.monitorOnly;
}

/**
 * What Mailwarden actually does with a decided action: the action itself when the account is enforced, null when
 * it is monitor-only (decided and recorded, never applied: nothing delivered, rejected, tagged or quarantined).
 */
export function appliedAction(decided: PolicyAction, account: Pick<Account, 'monitorOnly'>): PolicyAction | null {
  return isEnforced(account) ? decided : null;
}
