import type { ContentRule } from './data-control.types';
import { PolicyValidationException } from './policy.errors';
import { resolveDataControlPolicy, resolveEmailSecurityPolicy } from './resolve-policy';
import { DEFAULT_EMAIL_SECURITY_SETTINGS } from './policy.types';

const partner = (settings: object, locks?: string[]) => ({ id: 'p1', settings, locks });
const account = (settings: object, locks?: string[]) => ({ id: 'a1', settings, locks });
const domain = (settings: object, locks?: string[]) => ({ id: 'd1', settings, locks });
const group = (id: string, settings: object, locks?: string[]) => ({ id, settings, locks });
const user = (settings: object, locks?: string[]) => ({ id: 'u1', settings, locks });

describe(resolveEmailSecurityPolicy.name, () => {
  it('should return the built-in defaults, every option sourced from DEFAULT, when no level sets anything', () => {
    const resolved = resolveEmailSecurityPolicy({});
    expect(resolved.settings).toEqual(DEFAULT_EMAIL_SECURITY_SETTINGS);
    expect(resolved.settings).not.toBe(DEFAULT_EMAIL_SECURITY_SETTINGS);
    expect(resolved.options['senderChecks.dkim.action']).toEqual({ source: { level: 'DEFAULT', id: null }, locked: false });
    expect(Object.keys(resolved.options)).toHaveLength(15);
  });

  it.each([
    ['partner', { partner: partner({ subjectTag: '[P]' }) }, '[P]', { level: 'PARTNER', id: 'p1' }],
    ['account', { partner: partner({ subjectTag: '[P]' }), account: account({ subjectTag: '[A]' }) }, '[A]', { level: 'ACCOUNT', id: 'a1' }],
    [
      'domain',
      { partner: partner({ subjectTag: '[P]' }), account: account({ subjectTag: '[A]' }), domain: domain({ subjectTag: '[D]' }) },
      '[D]',
      { level: 'DOMAIN', id: 'd1' },
    ],
    [
      'group',
      { account: account({ subjectTag: '[A]' }), domain: domain({ subjectTag: '[D]' }), groups: [group('g1', { subjectTag: '[G]' })] },
      '[G]',
      { level: 'GROUP', id: 'g1' },
    ],
    [
      'user',
      {
        account: account({ subjectTag: '[A]' }),
        domain: domain({ subjectTag: '[D]' }),
        groups: [group('g1', { subjectTag: '[G]' })],
        user: user({ subjectTag: '[U]' }),
      },
      '[U]',
      { level: 'USER', id: 'u1' },
    ],
  ])('should let the %s level override every level above it', (_level, layers, tag, source) => {
    const resolved = resolveEmailSecurityPolicy(layers);
    expect(resolved.settings.subjectTag).toBe(tag);
    expect(resolved.options['subjectTag']).toEqual({ source, locked: false });
  });

  it('should merge partial settings field by field, each field from the lowest level that sets it', () => {
    const resolved = resolveEmailSecurityPolicy({
      account: account({ senderChecks: { dkim: { action: 'QUARANTINE' } }, blockAction: 'QUARANTINE' }),
      domain: domain({ senderChecks: { dkim: { enabled: false } } }),
      user: user({ senderChecks: { spf: { action: 'TAG_SUBJECT' } } }),
    });
    expect(resolved.settings.senderChecks.dkim).toEqual({ enabled: false, action: 'QUARANTINE' });
    expect(resolved.settings.senderChecks.spf).toEqual({ enabled: true, action: 'TAG_SUBJECT' });
    expect(resolved.settings.senderChecks.dmarc).toEqual(DEFAULT_EMAIL_SECURITY_SETTINGS.senderChecks.dmarc);
    expect(resolved.settings.blockAction).toBe('QUARANTINE');
    expect(resolved.options['senderChecks.dkim.action'].source).toEqual({ level: 'ACCOUNT', id: 'a1' });
    expect(resolved.options['senderChecks.dkim.enabled'].source).toEqual({ level: 'DOMAIN', id: 'd1' });
    expect(resolved.options['senderChecks.spf.action'].source).toEqual({ level: 'USER', id: 'u1' });
  });

  it('should give the first listed group precedence over later groups', () => {
    const resolved = resolveEmailSecurityPolicy({
      groups: [group('finance', { subjectTag: '[FIN]' }), group('staff', { subjectTag: '[STAFF]', blockAction: 'TAG_SUBJECT' })],
    });
    expect(resolved.settings.subjectTag).toBe('[FIN]');
    expect(resolved.settings.blockAction).toBe('TAG_SUBJECT');
    expect(resolved.options['subjectTag'].source).toEqual({ level: 'GROUP', id: 'finance' });
  });

  it('should keep a partner-locked value over every lower level and report the overridden levels', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({ senderChecks: { dmarc: { action: 'REJECT' } } }, ['senderChecks.dmarc.action']),
      account: account({ senderChecks: { dmarc: { action: 'DELIVER' } } }),
      user: user({ senderChecks: { dmarc: { action: 'TAG_SUBJECT', enabled: false } } }),
    });
    expect(resolved.settings.senderChecks.dmarc).toEqual({ action: 'REJECT', enabled: false });
    expect(resolved.options['senderChecks.dmarc.action']).toEqual({
      source: { level: 'PARTNER', id: 'p1' },
      locked: true,
      lockedBy: { level: 'PARTNER', id: 'p1' },
      overriddenByLock: [
        { level: 'ACCOUNT', id: 'a1' },
        { level: 'USER', id: 'u1' },
      ],
    });
    expect(resolved.options['senderChecks.dmarc.enabled']).toEqual({ source: { level: 'USER', id: 'u1' }, locked: false });
  });

  it('should lock the inherited value when the locking level does not set one itself', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({}, ['senderChecks.spf.action']),
      domain: domain({ senderChecks: { spf: { action: 'DELIVER' } } }),
    });
    expect(resolved.settings.senderChecks.spf.action).toBe('REJECT');
    expect(resolved.options['senderChecks.spf.action'].source).toEqual({ level: 'DEFAULT', id: null });
    expect(resolved.options['senderChecks.spf.action'].lockedBy).toEqual({ level: 'PARTNER', id: 'p1' });
  });

  it('should let the highest lock win when two levels lock the same option', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({ subjectTag: '[PARTNER]' }, ['subjectTag']),
      account: account({ subjectTag: '[ACCOUNT]' }, ['subjectTag']),
    });
    expect(resolved.settings.subjectTag).toBe('[PARTNER]');
    expect(resolved.options['subjectTag'].lockedBy).toEqual({ level: 'PARTNER', id: 'p1' });
  });

  it('should let an account-level lock bind the domain, group and user levels', () => {
    const resolved = resolveEmailSecurityPolicy({
      account: account({ blockAction: 'REJECT' }, ['blockAction']),
      domain: domain({ blockAction: 'TAG_SUBJECT' }),
      groups: [group('g1', { blockAction: 'TAG_SUBJECT' })],
      user: user({ blockAction: 'QUARANTINE' }),
    });
    expect(resolved.settings.blockAction).toBe('REJECT');
    expect(resolved.options['blockAction'].overriddenByLock).toHaveLength(3);
  });

  it('should lock every option under a prefix lock', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({}, ['senderChecks.dkim']),
      user: user({ senderChecks: { dkim: { enabled: false, action: 'DELIVER' } } }),
    });
    expect(resolved.settings.senderChecks.dkim).toEqual(DEFAULT_EMAIL_SECURITY_SETTINGS.senderChecks.dkim);
    expect(resolved.options['senderChecks.dkim.enabled'].locked).toBe(true);
    expect(resolved.options['senderChecks.dkim.action'].locked).toBe(true);
    expect(resolved.options['senderChecks.dmarc.action'].locked).toBe(false);
  });

  it('should add allow and block list entries across levels, normalised and de-duplicated', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({ blockList: { domains: ['Spam.Example.'] } }),
      account: account({ blockList: { domains: ['spam.example', 'bad.example'], addresses: [' X@Evil.example '] } }),
      user: user({ allowList: { addresses: ['friend@partner.example'] }, blockList: { domains: ['worse.example'] } }),
    });
    expect(resolved.settings.blockList).toEqual({ domains: ['spam.example', 'bad.example', 'worse.example'], addresses: ['x@evil.example'] });
    expect(resolved.settings.allowList).toEqual({ domains: [], addresses: ['friend@partner.example'] });
    expect(resolved.options['blockList.domains']).toEqual({
      source: { level: 'USER', id: 'u1' },
      contributors: [
        { level: 'PARTNER', id: 'p1' },
        { level: 'ACCOUNT', id: 'a1' },
        { level: 'USER', id: 'u1' },
      ],
      locked: false,
    });
  });

  it('should refuse additions below a locked list but keep the entries added at and above the lock', () => {
    const resolved = resolveEmailSecurityPolicy({
      partner: partner({ allowList: { domains: ['trusted.example'] } }),
      account: account({ allowList: { domains: ['vendor.example'] } }, ['allowList']),
      user: user({ allowList: { domains: ['anything.example'], addresses: ['a@b.example'] } }),
    });
    expect(resolved.settings.allowList).toEqual({ domains: ['trusted.example', 'vendor.example'], addresses: [] });
    expect(resolved.options['allowList.domains'].overriddenByLock).toEqual([{ level: 'USER', id: 'u1' }]);
    expect(resolved.options['allowList.addresses'].lockedBy).toEqual({ level: 'ACCOUNT', id: 'a1' });
  });

  it('should not mutate its inputs or the defaults', () => {
    const layers = { account: account({ blockList: { domains: ['a.example'] } }) };
    const before = JSON.stringify(layers);
    const defaultsBefore = JSON.stringify(DEFAULT_EMAIL_SECURITY_SETTINGS);
    const resolved = resolveEmailSecurityPolicy(layers);
    resolved.settings.blockList.domains.push('mutated.example');
    expect(JSON.stringify(layers)).toBe(before);
    expect(JSON.stringify(DEFAULT_EMAIL_SECURITY_SETTINGS)).toBe(defaultsBefore);
  });

  it('should throw a PolicyValidationException naming the level and field of an invalid stored layer', () => {
    expect(() => resolveEmailSecurityPolicy({ domain: domain({ senderChecks: { dkim: { action: 'EXPLODE' } } }) })).toThrow(
      PolicyValidationException,
    );
    expect(() => resolveEmailSecurityPolicy({ domain: domain({ senderChecks: { dkim: { action: 'EXPLODE' } } }) })).toThrow(
      /DOMAIN policy d1: .*senderChecks\.dkim\.action/,
    );
    expect(() => resolveEmailSecurityPolicy({ partner: partner({}, ['dmarc.action']) })).toThrow(/locks\[0\]/);
  });

  it('should be deterministic: the same layers give the same result', () => {
    const layers = {
      partner: partner({ blockList: { domains: ['x.example'] } }, ['senderChecks.spf']),
      groups: [group('g2', { subjectTag: '[2]' }), group('g1', { subjectTag: '[1]', blockList: { domains: ['y.example'] } })],
      user: user({ blockList: { domains: ['z.example'] } }),
    };
    expect(JSON.stringify(resolveEmailSecurityPolicy(layers))).toBe(JSON.stringify(resolveEmailSecurityPolicy(structuredClone(layers))));
  });
});

describe(resolveDataControlPolicy.name, () => {
  const rule = (id: string, overrides: Partial<ContentRule> = {}): ContentRule =>
    ({ id, kind: 'keyword', keywords: [id], enabled: true, action: 'QUARANTINE', directions: ['OUTBOUND'], ...overrides }) as ContentRule;

  it('should add rules across levels in top-down order', () => {
    const resolved = resolveDataControlPolicy({
      partner: partner({ rules: [rule('pci')] }),
      account: account({ rules: [rule('secret')] }),
      user: user({ rules: [rule('payroll')] }),
    });
    expect(resolved.settings.rules.map((r) => r.id)).toEqual(['pci', 'secret', 'payroll']);
    expect(resolved.settings.enabled).toBe(true);
    expect(resolved.options['rules.secret'].source).toEqual({ level: 'ACCOUNT', id: 'a1' });
    expect(resolved.options['rules'].contributors).toHaveLength(3);
  });

  it('should let a lower level redefine a rule by id in place', () => {
    const resolved = resolveDataControlPolicy({
      account: account({ rules: [rule('pci'), rule('secret')] }),
      user: user({ rules: [rule('pci', { enabled: false })] }),
    });
    expect(resolved.settings.rules.map((r) => [r.id, r.enabled])).toEqual([
      ['pci', false],
      ['secret', true],
    ]);
    expect(resolved.options['rules.pci'].source).toEqual({ level: 'USER', id: 'u1' });
  });

  it('should keep a rule locked by id while letting lower levels add other rules', () => {
    const resolved = resolveDataControlPolicy({
      partner: partner({ rules: [rule('pci', { action: 'REJECT' })] }, ['rules.pci']),
      account: account({ rules: [rule('pci', { enabled: false }), rule('own')] }),
    });
    expect(resolved.settings.rules).toEqual([rule('pci', { action: 'REJECT' }), rule('own')]);
    expect(resolved.options['rules.pci']).toMatchObject({ locked: true, lockedBy: { level: 'PARTNER', id: 'p1' }, overriddenByLock: [{ level: 'ACCOUNT', id: 'a1' }] });
  });

  it('should forbid lower levels to define a rule id locked before it exists', () => {
    const resolved = resolveDataControlPolicy({ partner: partner({}, ['rules.reserved']), user: user({ rules: [rule('reserved')] }) });
    expect(resolved.settings.rules).toEqual([]);
  });

  it('should freeze the whole rule list under a `rules` lock and the master switch under `enabled`', () => {
    const resolved = resolveDataControlPolicy({
      partner: partner({ enabled: true, rules: [rule('pci')] }, ['rules', 'enabled']),
      account: account({ enabled: false, rules: [rule('extra'), rule('pci', { enabled: false })] }),
    });
    expect(resolved.settings).toEqual({ enabled: true, rules: [rule('pci')] });
    expect(resolved.options['rules']).toMatchObject({ locked: true, overriddenByLock: [{ level: 'ACCOUNT', id: 'a1' }] });
    expect(resolved.options['enabled'].locked).toBe(true);
  });

  it('should return rules that do not share objects with the stored layers', () => {
    const layers = { account: account({ rules: [rule('pci')] }) };
    const resolved = resolveDataControlPolicy(layers);
    resolved.settings.rules[0].enabled = false;
    expect(layers.account.settings).toEqual({ rules: [rule('pci')] });
  });

  it('should refuse a stored layer with an uncompilable regular expression', () => {
    expect(() =>
      resolveDataControlPolicy({
        account: account({ rules: [{ id: 'bad', kind: 'regex', pattern: '(a)\\1', enabled: true, action: 'REJECT', directions: ['INBOUND'] }] }),
      }),
    ).toThrow(/ACCOUNT policy a1: invalid policy settings: rules\[0\]\.pattern/);
  });
});
