import { AccountRuleCode, accountRuleCodeOfDatabaseError } from './account-rules.errors';

describe(accountRuleCodeOfDatabaseError.name, () => {
  it('should recognise the triggers by constraint name, by message, and through wrapping causes', () => {
    expect(accountRuleCodeOfDatabaseError({ code: '23514', constraint: 'domain_mode_requires_enforced_account' })).toBe(
      AccountRuleCode.MonitorOnlyAllowsJournalOnly,
    );
    const driverError = new Error(
      'account 1 cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains: a.example (GATEWAY)',
    );
    expect(accountRuleCodeOfDatabaseError(new Error('transaction failed', { cause: driverError }))).toBe(AccountRuleCode.EnforcingDomainsPresent);
    expect(accountRuleCodeOfDatabaseError({ message: 'wrapped', meta: { driverAdapterError: { constraint: 'account_monitor_only_requires_journal_domains' } } })).toBe(
      AccountRuleCode.EnforcingDomainsPresent,
    );
  });

  it('should return null for any other error', () => {
    expect(accountRuleCodeOfDatabaseError(new Error('connection refused'))).toBeNull();
    expect(accountRuleCodeOfDatabaseError({ code: '23505', constraint: 'domain_name_key' })).toBeNull();
    expect(accountRuleCodeOfDatabaseError(null)).toBeNull();
  });
});
