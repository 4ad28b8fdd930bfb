import { median, percentile, ratio, round, summarize } from './stats';

describe(percentile.name, () => {
  it('should pick the nearest rank, whatever the input order', () => {
    const values = [50, 10, 40, 30, 20, 60, 70, 80, 90, 100];
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 90)).toBe(90);
    expect(percentile(values, 95)).toBe(100);
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(100);
  });

  it('should report a value that occurred for p99 of 1000 samples, not an interpolation', () => {
    const values = Array.from({ length: 1000 }, (_, index) => index + 1);
    expect(percentile(values, 99)).toBe(990);
    expect(percentile([1, 1000], 99)).toBe(1000);
  });

  it('should give NaN for no values and refuse p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe(median.name, () => {
  it('should take the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe(summarize.name, () => {
  it('should give count, percentiles and max without changing the input', () => {
    const values = [5, 1, 4, 2, 3];
    expect(summarize(values)).toEqual({ count: 5, p50: 3, p95: 5, p99: 5, max: 5 });
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });
});

describe(ratio.name, () => {
  it('should divide, and give null when a figure is missing or the denominator is not positive', () => {
    expect(ratio(90, 100)).toBeCloseTo(0.9);
    expect(ratio(null, 100)).toBeNull();
    expect(ratio(90, 0)).toBeNull();
    expect(ratio(Number.NaN, 3)).toBeNull();
  });
});

describe(round.name, () => {
  it('should keep three significant digits below 100 and integers above', () => {
    expect(round(0.87654)).toBe(0.877);
    expect(round(1234.56)).toBe(1235);
    expect(round(Number.NaN)).toBeNull();
  });
});
