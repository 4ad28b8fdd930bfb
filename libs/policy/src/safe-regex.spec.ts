import { RE2JS } from 're2js';
import { MAX_REGEX_LENGTH, compileSafeRegex } from './safe-regex';

describe(compileSafeRegex.name, () => {
  it('should run the catastrophic pattern (a+)+$ in linear time on a long non-matching input', () => {
    const compiled = compileSafeRegex('(a+)+$');
    if (!compiled.ok) {
      throw new Error(compiled.error);
    }
    expect(compiled.regex).toBeInstanceOf(RE2JS);
    // A backtracking engine needs 2^n steps here: n = 30 already takes seconds with RegExp, so n = 800,000 would
    // never finish within the test's timeout. RE2 needs n steps. No clock assertion: finishing at all is the proof.
    expect(compiled.regex.test('a'.repeat(800_000) + '!')).toBe(false);
    expect(compiled.regex.test('a'.repeat(800_000))).toBe(true);
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
