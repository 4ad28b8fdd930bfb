import type { DomainMode } from '@mailwarden/db';
import { AccountRuleCode } from './account-rules.errors';
import { canSetDomainMode, canSetMonitorOnly, type DomainModeView } from './domain-mode';

const advanced = { id: 'acc-1', monitorOnly: false };
const monitorOnly = { id: 'acc-1', monitorOnly: true };
const row = (overrides: Partial<DomainModeView> = {}): DomainModeView => ({ id: 'dom-1', accountId: 'acc-1', name: 'acme.example', mode: 'JOURNAL', ...overrides });

describe(canSetDomainMode.name, () => {
  it.each<[DomainMode, boolean]>([
    ['JOURNAL', true],
    ['GATEWAY', false],
    ['MAILFLOW', false],
  ])('should allow %s on a monitor-only account: %s', (mode, allowed) => {
    const check = canSetDomainMode(monitorOnly, row(), mode);
    expect(check.ok).toBe(allowed);
    if (!check.ok) {
      expect(check.code).toBe(AccountRuleCode.MonitorOnlyAllowsJournalOnly);
      expect(check.reason).toContain(`cannot be set to ${mode} mode while the account is monitor-only`);
    }
  });

  it.each<DomainMode>(['JOURNAL', 'GATEWAY', 'MAILFLOW'])('should allow %s on an enforced account', (mode) => {
    expect(canSetDomainMode(advanced, row(), mode)).toEqual({ ok: true });
  });

  it('should allow changing the mode of the existing row itself', () => {
    expect(canSetDomainMode(advanced, row(), 'MAILFLOW', new Map([['acme.example', row({ mode: 'GATEWAY' })]]))).toEqual({ ok: true });
  });

  it('should not refuse a name another account has added: only verification claims a name (issue 14, squatting)', () => {
    const others = { 'acme.example': row({ id: 'dom-9', accountId: 'acc-2' }) };
    expect(canSetDomainMode(advanced, { name: 'ACME.example.' }, 'JOURNAL', others)).toEqual({ ok: true });
  });

  it('should refuse connecting the same name twice to one account (it would be scanned twice)', () => {
    const others = new Map([['acme.example', row({ mode: 'GATEWAY' })]]);
    expect(canSetDomainMode(advanced, { name: 'acme.example', accountId: 'acc-1' }, 'MAILFLOW', others)).toEqual({
      ok: false,
      code: AccountRuleCode.DomainAlreadyConnected,
      reason: "domain acme.example is already connected to this account in GATEWAY mode; change that domain's mode instead",
    });
  });

  it('should treat a subdomain as a different domain', () => {
    expect(canSetDomainMode(advanced, { name: 'eu.acme.example' }, 'GATEWAY', { 'acme.example': row({ accountId: 'acc-2' }) })).toEqual({ ok: true });
  });

  it('should refuse a domain row of another account, an empty name and an unknown mode', () => {
    expect(canSetDomainMode(advanced, row({ accountId: 'acc-2' }), 'JOURNAL')).toMatchObject({ code: AccountRuleCode.DomainNotInAccount });
    expect(canSetDomainMode(advanced, { name: ' . ' }, 'JOURNAL')).toMatchObject({ code: AccountRuleCode.InvalidInput });
    expect(canSetDomainMode(advanced, row(), 'MX' as DomainMode)).toMatchObject({ code: AccountRuleCode.InvalidInput });
  });
});

describe(canSetMonitorOnly.name, () => {
  it('should refuse monitor-only while GATEWAY or MAILFLOW domains remain, naming them', () => {
    const domains = [row({ name: 'b.example', mode: 'MAILFLOW' }), row({ name: 'a.example', mode: 'GATEWAY' }), row({ name: 'c.example' })];
    expect(canSetMonitorOnly(advanced, domains, true)).toEqual({
      ok: false,
      code: AccountRuleCode.EnforcingDomainsPresent,
      reason:
        'the account cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains: a.example (GATEWAY), b.example (MAILFLOW); move them back to JOURNAL first',
    });
  });

  it('should allow monitor-only once every domain is in JOURNAL mode, and turning it off at any time', () => {
    expect(canSetMonitorOnly(advanced, [row(), row({ id: 'dom-2', name: 'b.example' })], true)).toEqual({ ok: true });
    expect(canSetMonitorOnly(monitorOnly, [row({ mode: 'GATEWAY' })], false)).toEqual({ ok: true });
  });

  it('should ignore domains of other accounts', () => {
    expect(canSetMonitorOnly(advanced, [row({ accountId: 'acc-2', mode: 'GATEWAY' })], true)).toEqual({ ok: true });
  });
});
