import { normalizeAddress, normalizeDomain } from './address-list';

/**
 * How one option merges across levels:
 * - `value`: the lowest level that sets it wins (unless locked above);
 * - `set`: a list of strings; each level ADDS entries (Mimecast / Sophos: allow and block lists are additive
 *   across levels), duplicates removed, a lower level cannot remove what a higher level added;
 * - `keyed`: a list of objects with an `id`; each level adds items, and an item with an id already present
 *   replaces it in place (so a lower level can redefine or disable a rule unless `rules.<id>` or `rules` is locked).
 */
export type PolicyOptionKind = 'value' | 'set' | 'keyed';

export interface PolicyOptionSpec {
  path: string;
  kind: PolicyOptionKind;
  /** `set` options: how entries are normalised before de-duplication. */
  normalize?: (entry: string) => string;
}

const address = (entry: string): string => normalizeAddress(entry) ?? '';

export const EMAIL_SECURITY_OPTIONS: readonly PolicyOptionSpec[] = [
  { path: 'senderChecks.dmarc.enabled', kind: 'value' },
  { path: 'senderChecks.dmarc.action', kind: 'value' },
  { path: 'senderChecks.spf.enabled', kind: 'value' },
  { path: 'senderChecks.spf.action', kind: 'value' },
  { path: 'senderChecks.dkim.enabled', kind: 'value' },
  { path: 'senderChecks.dkim.action', kind: 'value' },
  { path: 'senderChecks.headerAnomaly.enabled', kind: 'value' },
  { path: 'senderChecks.headerAnomaly.action', kind: 'value' },
  { path: 'senderChecks.trustedArcSealers', kind: 'set', normalize: normalizeDomain },
  { path: 'allowList.domains', kind: 'set', normalize: normalizeDomain },
  { path: 'allowList.addresses', kind: 'set', normalize: address },
  { path: 'blockList.domains', kind: 'set', normalize: normalizeDomain },
  { path: 'blockList.addresses', kind: 'set', normalize: address },
  { path: 'blockAction', kind: 'value' },
  { path: 'subjectTag', kind: 'value' },
];

export const DATA_CONTROL_OPTIONS: readonly PolicyOptionSpec[] = [
  { path: 'enabled', kind: 'value' },
  { path: 'rules', kind: 'keyed' },
];

/** Content rule ids: they appear in lock paths (`rules.<id>`), so no dots. */
export const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** True when `lock` locks `path`: equal, or a prefix on a dot boundary (`senderChecks.dmarc` locks `senderChecks.dmarc.action`). */
export function lockCovers(lock: string, path: string): boolean {
  return lock === path || path.startsWith(`${lock}.`);
}

/** True when `lock` names at least one option of the catalogue (or one rule, for keyed options). */
export function isKnownLockPath(options: readonly PolicyOptionSpec[], lock: string): boolean {
  return options.some(
    (option) =>
      lockCovers(lock, option.path) ||
      (option.kind === 'keyed' && lock.startsWith(`${option.path}.`) && RULE_ID_PATTERN.test(lock.slice(option.path.length + 1))),
  );
}

/** Reads a dotted path from a plain object; undefined when any step is missing. */
export function getPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Writes a dotted path into a plain object, creating intermediate objects. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let current = target;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== 'object') {
      current[key] = {};
    }
    current = current[key] as Record<string, unknown>;
  }
  current[keys[keys.length - 1]] = value;
}
