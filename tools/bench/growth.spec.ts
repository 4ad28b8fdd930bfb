import { seedSpacingSeconds } from './growth';

describe('seedSpacingSeconds', () => {
  it('should keep one message every 7 seconds while the history fits the 28 days it is seeded over', () => {
    expect(seedSpacingSeconds(100_000)).toBe(7);
    expect(seedSpacingSeconds(10_000)).toBe(7);
  });

  it('should squeeze larger histories into 28 days, so search (which shows the last 30) sees all of them', () => {
    expect(seedSpacingSeconds(1_000_000)).toBeCloseTo(2.4192, 4);
    expect(seedSpacingSeconds(10_000_000) * 10_000_000).toBeCloseTo(28 * 86_400, 3);
  });
});
