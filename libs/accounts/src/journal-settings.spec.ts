import { checkSourceRanges, MAX_JOURNAL_SOURCE_RANGES } from './journal-settings';

describe(checkSourceRanges.name, () => {
  it('should accept addresses and CIDR ranges of both families, trimmed, lower-case and once each', () => {
    expect(checkSourceRanges([' 40.92.0.0/15', '2A01:111::/32', '203.0.113.7', '40.92.0.0/15'])).toEqual({
      ok: true,
      ranges: ['40.92.0.0/15', '2a01:111::/32', '203.0.113.7'],
    });
    expect(checkSourceRanges([])).toEqual({ ok: true, ranges: [] });
  });

  it('should name every entry that is not an address or range', () => {
    const check = checkSourceRanges(['10.0.0.0/8', '10.0.0.0/33', 'example.com', '::1/129', '1.2.3.4/8/1', '1.2.3.4/']);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.errors.map((error) => error.index)).toEqual([1, 2, 3, 4, 5]);
    expect(checkSourceRanges(Array.from({ length: MAX_JOURNAL_SOURCE_RANGES + 1 }, () => '10.0.0.1')).ok).toBe(false);
  });
});
