import { MAX_REGEX_LENGTH, compileSafeRegex } from './safe-regex';

function medianMs(run: () => void): number {
  const times: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2];
}

describe(compileSafeRegex.name, () => {
  it('should run the catastrophic pattern (a+)+$ in linear time on a long non-matching input', () => {
    const compiled = compileSafeRegex('(a+)+$');
    if (!compiled.ok) {
      throw new Error(compiled.error);
    }
    // A backtracking engine needs 2^n steps here (n = 30 already takes seconds with RegExp); RE2 needs n.
    const small = 'a'.repeat(100_000) + '!';
    const large = 'a'.repeat(800_000) + '!';
    expect(compiled.regex.test(small)).toBe(false);
    const smallMs = medianMs(() => compiled.regex.test(small));
    const largeMs = medianMs(() => compiled.regex.test(large));
    // 8x the input: linear is ~8x the time; quadratic would be ~64x. The floor absorbs timer noise on tiny times.
    expect(largeMs).toBeLessThan(Math.max(20 * smallMs, 50));
    expect(largeMs).toBeLessThan(2000);
    expect(compiled.regex.test('aaaa')).toBe(true);
  });

  it('should refuse a backreference, which RE2 cannot run in linear time', () => {
    const compiled = compileSafeRegex('(a)\\1');
    expect(compiled).toEqual({ ok: false, error: expect.stringMatching(/^not a valid RE2 pattern \(.*invalid escape sequence.*\\1/) });
  });

  it('should refuse lookbehind, a syntax error and an overlong pattern', () => {
    expect(compileSafeRegex('(?<=a)b').ok).toBe(false);
    expect(compileSafeRegex('(unclosed').ok).toBe(false);
    expect(compileSafeRegex('a'.repeat(MAX_REGEX_LENGTH + 1))).toEqual({ ok: false, error: `pattern is longer than ${MAX_REGEX_LENGTH} characters` });
  });

  it('should honour case-insensitivity only when asked', () => {
    const sensitive = compileSafeRegex('secret');
    const insensitive = compileSafeRegex('secret', true);
    expect(sensitive.ok && sensitive.regex.test('TOP SECRET')).toBe(false);
    expect(insensitive.ok && insensitive.regex.test('TOP SECRET')).toBe(true);
  });
});
