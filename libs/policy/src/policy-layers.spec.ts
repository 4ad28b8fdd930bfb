import { buildPolicyLayers, type StoredPolicyRow } from './policy-layers';
import type { EmailSecuritySettingsPatch } from './policy-resolution.types';
import { resolveEmailSecurityPolicy } from './resolve-policy';

describe(buildPolicyLayers.name, () => {
  const rows: StoredPolicyRow[] = [
    { scope: 'USER', scopeId: 'u1', settings: { subjectTag: '[U1]' }, locks: [] },
    { scope: 'USER', scopeId: 'u2', settings: { subjectTag: '[U2]' }, locks: [] },
    { scope: 'GROUP', scopeId: 'g1', settings: { subjectTag: '[G1]' }, locks: [] },
    { scope: 'GROUP', scopeId: 'g2', settings: { subjectTag: '[G2]' }, locks: [] },
    { scope: 'DOMAIN', scopeId: 'd1', settings: {}, locks: [] },
    { scope: 'ACCOUNT', scopeId: 'a1', settings: { blockAction: 'QUARANTINE' }, locks: [] },
    { scope: 'PARTNER', scopeId: 'p1', settings: { blockAction: 'REJECT' }, locks: ['blockAction'] },
  ];

  it('should pick the rows of the target at each level, groups in the target’s order', () => {
    const layers = buildPolicyLayers<EmailSecuritySettingsPatch>(rows, { partnerId: 'p1', accountId: 'a1', domainId: 'd1', groupIds: ['g2', 'missing', 'g1'], userId: 'u2' });
    expect(layers.partner?.id).toBe('p1');
    expect(layers.account?.id).toBe('a1');
    expect(layers.domain?.id).toBe('d1');
    expect(layers.groups?.map((group) => group.id)).toEqual(['g2', 'g1']);
    expect(layers.user?.id).toBe('u2');
    const resolved = resolveEmailSecurityPolicy(layers);
    expect(resolved.settings.subjectTag).toBe('[U2]');
    expect(resolved.settings.blockAction).toBe('REJECT');
  });

  it('should leave out levels the target has no row for', () => {
    const layers = buildPolicyLayers(rows, { accountId: 'other', userId: null });
    expect(layers).toEqual({ partner: undefined, account: undefined, domain: undefined, groups: [], user: undefined });
  });
});
