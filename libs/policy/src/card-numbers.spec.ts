import { findCardNumbers, isLuhnValid } from './card-numbers';

describe(isLuhnValid.name, () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['378282246310006', false],
    ['6011111111111117', true],
    ['4222222222222', true],
    ['79927398713', true],
    ['41111111111111x1', false],
    ['', false],
  ])('should judge %s Luhn-valid=%s', (digits, valid) => {
    expect(isLuhnValid(digits)).toBe(valid);
  });
});

describe(findCardNumbers.name, () => {
  it('should find Luhn-valid numbers written with spaces, hyphens or no separators, showing only the last four digits', () => {
    const found = findCardNumbers('Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, Amex 378282246310005.');
    expect(found.map((match) => [match.last4, match.length])).toEqual([
      ['1111', 16],
      ['4444', 16],
      ['0005', 15],
    ]);
    expect(JSON.stringify(found)).not.toContain('4111 1111');
  });

  it('should ignore Luhn-invalid numbers and numbers outside 13-19 digits', () => {
    expect(findCardNumbers('order 4111 1111 1111 1112 and phone 0800 123 456')).toEqual([]);
    expect(findCardNumbers('too short 411111111111 and too long 41111111111111111111111')).toEqual([]);
  });

  it('should not take a card out of a longer unbroken digit run', () => {
    expect(findCardNumbers('tracking 94111111111111111110')).toEqual([]);
  });

  it('should find a card next to other digit groups', () => {
    expect(findCardNumbers('ref 12-4111 1111 1111 1111 exp 12 27').map((match) => match.last4)).toEqual(['1111']);
    expect(findCardNumbers('4111 1111 1111 1111 2')).toHaveLength(1);
  });

  it('should do work linear in the number of digit groups on a long run of them', () => {
    // Counted, not timed: each group starts at most one window, and a window grows by at most 19 groups.
    for (const groups of [1_000, 200_000]) {
      const work = { runs: 0, windowSteps: 0 };
      expect(findCardNumbers('1 '.repeat(groups), work)).toEqual([]);
      expect(work.runs).toBe(1);
      expect(work.windowSteps).toBeGreaterThanOrEqual(groups);
      expect(work.windowSteps).toBeLessThanOrEqual(19 * groups);
    }
  });
});
