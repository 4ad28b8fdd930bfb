import type { PolicyAction } from '@mailwarden/db';
import { appliedAction, isEnforced } from './monitor-only';

describe(isEnforced.name, () => {
  it('should be the negation of monitorOnly', () => {
    expect(isEnforced({ monitorOnly: true })).toBe(false);
    expect(isEnforced({ monitorOnly: false })).toBe(true);
  });
});

describe(appliedAction.name, () => {
  it.each<PolicyAction>(['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'])('should apply %s only when enforced', (decided) => {
    expect(appliedAction(decided, { monitorOnly: false })).toBe(decided);
    expect(appliedAction(decided, { monitorOnly: true })).toBeNull();
  });
});
