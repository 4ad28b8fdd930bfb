import { DEFAULT_RETENTION, resolveRetention, retentionAboveCeiling, retentionCeiling, validateRetentionLocks, validateRetentionSettings } from './retention';

describe('retention', () => {
  it('should apply the Sophos-like defaults, with raw bytes kept for the longest window', () => {
    expect(resolveRetention(null, null, 14)).toEqual({ historyDays: 30, quarantineDays: 30, auditLogDays: 365, rawMessageDays: 30, ceiling: retentionCeiling(null) });
    expect(resolveRetention({ historyDays: 7, quarantineDays: 10 }, null, 14).rawMessageDays).toBe(14);
    expect(resolveRetention({ historyDays: 7, quarantineDays: 21 }, null, 14).rawMessageDays).toBe(21);
    expect(resolveRetention({ historyDays: 60 }, null, 14).rawMessageDays).toBe(60);
  });

  it("should hold a tenant's windows under the partner ceiling, even one lowered after the tenant chose more", () => {
    const effective = resolveRetention({ historyDays: 90, auditLogDays: 400 }, { historyDays: 45, auditLogDays: 365 }, 14);
    expect(effective).toMatchObject({ historyDays: 45, auditLogDays: 365, quarantineDays: 30 });
    expect(resolveRetention(null, { historyDays: 10, quarantineDays: 5 }, 14)).toMatchObject({ historyDays: 10, quarantineDays: 5, rawMessageDays: 14 });
  });

  it('should name the fields above the ceiling', () => {
    expect(retentionAboveCeiling({ historyDays: 31, quarantineDays: 30 }, retentionCeiling({ historyDays: 30, quarantineDays: 30 }))).toEqual(['historyDays']);
    expect(retentionAboveCeiling({}, retentionCeiling({ historyDays: 1 }))).toEqual([]);
  });

  it('should refuse unknown fields, fractions, strings, zero, negatives and values above the platform maximum', () => {
    expect(validateRetentionSettings(DEFAULT_RETENTION)).toEqual([]);
    const errors = validateRetentionSettings({ historyDays: 1.5, quarantineDays: '30', auditLogDays: 0, extra: 1 });
    expect(errors.map((error) => [error.field, error.code])).toEqual([
      ['historyDays', 'INVALID_TYPE'],
      ['quarantineDays', 'INVALID_TYPE'],
      ['auditLogDays', 'INVALID_VALUE'],
      ['extra', 'UNKNOWN_FIELD'],
    ]);
    expect(validateRetentionSettings({ historyDays: 1e9 })[0]?.code).toBe('INVALID_VALUE');
    expect(validateRetentionSettings({ historyDays: -1 })[0]?.code).toBe('INVALID_VALUE');
    expect(validateRetentionSettings([])[0]?.code).toBe('INVALID_TYPE');
    expect(validateRetentionLocks(['historyDays'])[0]?.code).toBe('UNKNOWN_LOCK_PATH');
  });

  it('should ignore stored values that are not whole positive days (a forged row never widens a window)', () => {
    expect(resolveRetention({ historyDays: -5, quarantineDays: Number.NaN } as never, { historyDays: 0 } as never, 14)).toMatchObject({ historyDays: 30, quarantineDays: 30 });
  });
});
