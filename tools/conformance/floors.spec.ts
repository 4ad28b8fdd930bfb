import { compareWithFloors, formatSuiteLine } from './floors';

describe(compareWithFloors.name, () => {
  const result = (suite: string, passed: number, total = 10) => ({ suite, passed, total, failures: [] });

  it('should report suites below their floor, without a floor, and floors without a suite', () => {
    expect(compareWithFloors([result('a', 9), result('b', 10), result('c', 3)], { a: 10, b: 10, d: 1 })).toEqual([
      'a: 9 < floor 10',
      'c: no floor in floors.json',
      'd: floor set but the suite did not run',
    ]);
  });

  it('should accept counts at or above the floor', () => {
    expect(compareWithFloors([result('a', 10), result('b', 7)], { a: 10, b: 6 })).toEqual([]);
  });

  it('should print one line per suite', () => {
    expect(formatSuiteLine(result('spf-rfc7208', 201, 203))).toBe('spf-rfc7208: 201/203');
    expect(formatSuiteLine({ ...result('dmarc-milter', 13, 13), notScored: '7 not scored' })).toBe('dmarc-milter: 13/13 (7 not scored)');
  });
});
