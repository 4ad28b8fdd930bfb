import { RE2JS } from 're2js';

/** Longest pattern an admin may store; RE2 is linear in the input but its program grows with the pattern. */
export const MAX_REGEX_LENGTH = 1000;

export type RegexCompileResult = { ok: true; regex: RE2JS } | { ok: false; error: string };

const cache = new Map<string, RE2JS>();
const CACHE_LIMIT = 512;

/**
 * Compiles a pattern with RE2 (re2js, pure JavaScript): matching runs in time linear in the input, so a
 * pattern like `(a+)+$` cannot backtrack catastrophically. Constructs RE2 does not support (backreferences,
 * lookaround, possessive quantifiers) are refused here rather than emulated, with RE2's own message.
 */
export function compileSafeRegex(pattern: string, caseInsensitive = false): RegexCompileResult {
  if (pattern.length > MAX_REGEX_LENGTH) {
    return { ok: false, error: `pattern is longer than ${MAX_REGEX_LENGTH} characters` };
  }
  const key = `${caseInsensitive ? 'i' : '-'}${pattern}`;
  const cached = cache.get(key);
  if (cached) {
    return { ok: true, regex: cached };
  }
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    return { ok: false, error: `not a valid RE2 pattern (${(error as Error).message})` };
  }
  // Compiled patterns are immutable; the cache only saves recompiling the same rule for every message.
  if (cache.size >= CACHE_LIMIT) {
    cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, regex);
  return { ok: true, regex };
}
