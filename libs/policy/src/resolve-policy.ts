import { DEFAULT_DATA_CONTROL_SETTINGS, type ContentRule, type DataControlSettings, type DataControlSettingsPatch } from './data-control.types';
import { PolicyValidationException, type PolicyValidationError } from './policy.errors';
import {
  DATA_CONTROL_OPTIONS,
  EMAIL_SECURITY_OPTIONS,
  getPath,
  lockCovers,
  setPath,
  type PolicyOptionSpec,
} from './policy-options';
import {
  DEFAULT_SOURCE,
  type EmailSecuritySettingsPatch,
  type OptionResolution,
  type PolicyLayer,
  type PolicyLayers,
  type PolicyLevel,
  type PolicySource,
  type ResolvedPolicy,
} from './policy-resolution.types';
import { DEFAULT_EMAIL_SECURITY_SETTINGS, type EmailSecuritySettings } from './policy.types';
import {
  validateDataControlLocks,
  validateDataControlSettings,
  validateEmailSecurityLocks,
  validateEmailSecuritySettings,
} from './validate-settings';

interface OrderedLayer {
  source: PolicySource;
  settings: unknown;
  locks: readonly string[];
}

/**
 * Layers in the order they are applied: partner, account, domain, groups (last-listed first, so the first
 * group is applied last and wins), user. A value set lower overrides one set higher; a lock stops every later layer.
 */
function orderLayers<T>(layers: PolicyLayers<T>): OrderedLayer[] {
  const ordered: { level: PolicyLevel; layer: PolicyLayer<T> }[] = [];
  const add = (level: PolicyLevel, layer: PolicyLayer<T> | undefined) => layer && ordered.push({ level, layer });
  add('PARTNER', layers.partner);
  add('ACCOUNT', layers.account);
  add('DOMAIN', layers.domain);
  [...(layers.groups ?? [])].reverse().forEach((group) => add('GROUP', group));
  add('USER', layers.user);
  return ordered.map(({ level, layer }) => ({
    source: { level, id: layer.id },
    settings: layer.settings,
    locks: layer.locks ?? [],
  }));
}

const isLocked = (layer: OrderedLayer, path: string): boolean => layer.locks.some((lock) => lockCovers(lock, path));

/** Once a higher layer has locked the option, a lower layer's own value is not applied, only recorded; true: skip the layer. */
function skippedByLock(resolution: OptionResolution, layer: OrderedLayer, hasOwn: boolean): boolean {
  if (!resolution.locked) {
    return false;
  }
  if (hasOwn) {
    (resolution.overriddenByLock ??= []).push(layer.source);
  }
  return true;
}

/** A layer that locks `path` freezes the resolution at what it stands at after that layer. */
function applyLock(resolution: OptionResolution, layer: OrderedLayer, path: string): void {
  if (isLocked(layer, path)) {
    resolution.locked = true;
    resolution.lockedBy = layer.source;
  }
}

function resolveValue(option: PolicyOptionSpec, defaults: unknown, layers: OrderedLayer[]): { value: unknown; resolution: OptionResolution } {
  let value = getPath(defaults, option.path);
  const resolution: OptionResolution = { source: DEFAULT_SOURCE, locked: false };
  for (const layer of layers) {
    const own = getPath(layer.settings, option.path);
    if (skippedByLock(resolution, layer, own !== undefined)) {
      continue;
    }
    if (own !== undefined) {
      value = own;
      resolution.source = layer.source;
    }
    // The locking level's own value was applied just above, so it is the one that stays.
    applyLock(resolution, layer, option.path);
  }
  return { value, resolution };
}

function resolveSet(option: PolicyOptionSpec, defaults: unknown, layers: OrderedLayer[]): { value: string[]; resolution: OptionResolution } {
  const normalize = option.normalize ?? ((entry: string) => entry);
  const entries = new Set<string>((getPath(defaults, option.path) as string[]).map(normalize));
  const resolution: OptionResolution = { source: DEFAULT_SOURCE, contributors: [], locked: false };
  for (const layer of layers) {
    const own = (getPath(layer.settings, option.path) as string[] | undefined) ?? [];
    if (skippedByLock(resolution, layer, own.length > 0)) {
      continue;
    }
    if (own.length > 0) {
      own.map(normalize).forEach((entry) => entry !== '' && entries.add(entry));
      resolution.contributors!.push(layer.source);
      resolution.source = layer.source;
    }
    applyLock(resolution, layer, option.path);
  }
  return { value: [...entries], resolution };
}

function resolveKeyed(
  option: PolicyOptionSpec,
  defaults: unknown,
  layers: OrderedLayer[],
  options: Record<string, OptionResolution>,
): ContentRule[] {
  const items = new Map<string, { rule: ContentRule; resolution: OptionResolution }>();
  const lockedIds = new Map<string, PolicySource>();
  for (const rule of getPath(defaults, option.path) as ContentRule[]) {
    items.set(rule.id, { rule, resolution: { source: DEFAULT_SOURCE, locked: false } });
  }
  const list: OptionResolution = { source: DEFAULT_SOURCE, contributors: [], locked: false };
  for (const layer of layers) {
    const own = (getPath(layer.settings, option.path) as ContentRule[] | undefined) ?? [];
    if (skippedByLock(list, layer, own.length > 0)) {
      continue;
    }
    for (const rule of own) {
      const existing = items.get(rule.id);
      if (lockedIds.has(rule.id)) {
        if (existing) {
          (existing.resolution.overriddenByLock ??= []).push(layer.source);
        }
        continue;
      }
      // Map.set on an existing key keeps its position: a redefined rule stays where it was first defined.
      items.set(rule.id, { rule, resolution: { source: layer.source, locked: false } });
    }
    if (own.length > 0) {
      list.contributors!.push(layer.source);
      list.source = layer.source;
    }
    for (const [id, item] of items) {
      if (!lockedIds.has(id) && isLocked(layer, `${option.path}.${id}`)) {
        lockedIds.set(id, layer.source);
        item.resolution.locked = true;
        item.resolution.lockedBy = layer.source;
      }
    }
    // A lock on a rule id not defined yet forbids lower levels to define it.
    for (const lock of layer.locks) {
      if (lock.startsWith(`${option.path}.`) && !lockedIds.has(lock.slice(option.path.length + 1))) {
        lockedIds.set(lock.slice(option.path.length + 1), layer.source);
      }
    }
    applyLock(list, layer, option.path);
  }
  options[option.path] = list;
  for (const [id, item] of items) {
    options[`${option.path}.${id}`] = item.resolution;
  }
  return [...items.values()].map((item) => item.rule);
}

function resolveWith<TSettings>(
  catalogue: readonly PolicyOptionSpec[],
  defaults: TSettings,
  layers: OrderedLayer[],
): ResolvedPolicy<TSettings> {
  const settings = structuredClone(defaults) as Record<string, unknown>;
  const options: Record<string, OptionResolution> = {};
  for (const option of catalogue) {
    if (option.kind === 'keyed') {
      setPath(settings, option.path, structuredClone(resolveKeyed(option, defaults, layers, options)));
      continue;
    }
    const { value, resolution } = option.kind === 'set' ? resolveSet(option, defaults, layers) : resolveValue(option, defaults, layers);
    setPath(settings, option.path, structuredClone(value));
    options[option.path] = resolution;
  }
  return { settings: settings as TSettings, options };
}

function validateLayers(
  layers: OrderedLayer[],
  validateSettings: (patch: unknown) => PolicyValidationError[],
  validateLocks: (locks: unknown) => PolicyValidationError[],
): void {
  for (const layer of layers) {
    const errors = [...validateSettings(layer.settings), ...validateLocks(layer.locks)];
    if (errors.length > 0) {
      throw new PolicyValidationException(errors, `${layer.source.level} policy ${layer.source.id}`);
    }
  }
}

/**
 * Resolves the effective Email Security policy for one recipient (DESIGN.md §5).
 * - Single values (actions, enabled flags, block action, subject tag): the lowest level that sets one wins.
 * - Allow and block lists and trusted ARC sealers: additive across levels (as in Mimecast and Sophos), de-duplicated.
 * - Locks: the highest level that locks an option fixes the value resolved at that level; lower settings are
 *   ignored and reported in `overriddenByLock`.
 * Layers are validated first (they come from stored JSON): a bad one throws PolicyValidationException naming it.
 */
export function resolveEmailSecurityPolicy(
  layers: PolicyLayers<EmailSecuritySettingsPatch>,
  defaults: EmailSecuritySettings = DEFAULT_EMAIL_SECURITY_SETTINGS,
): ResolvedPolicy<EmailSecuritySettings> {
  const ordered = orderLayers(layers);
  validateLayers(ordered, validateEmailSecuritySettings, validateEmailSecurityLocks);
  return resolveWith(EMAIL_SECURITY_OPTIONS, defaults, ordered);
}

/**
 * Resolves the effective Data Control policy: `enabled` like any single value; rules additive across levels,
 * a rule with an id already defined above replacing it in place (e.g. a user-level copy with `enabled: false`),
 * unless `rules.<id>` or `rules` is locked above.
 */
export function resolveDataControlPolicy(
  layers: PolicyLayers<DataControlSettingsPatch>,
  defaults: DataControlSettings = DEFAULT_DATA_CONTROL_SETTINGS,
): ResolvedPolicy<DataControlSettings> {
  const ordered = orderLayers(layers);
  validateLayers(ordered, validateDataControlSettings, validateDataControlLocks);
  return resolveWith(DATA_CONTROL_OPTIONS, defaults, ordered);
}
