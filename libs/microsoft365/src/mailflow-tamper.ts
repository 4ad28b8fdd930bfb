/**
 * Tamper detection of Mailwarden's Exchange Online mailflow objects (issue 16), the pure part: what Mailwarden
 * created (cmdlet parameters as sent) against what `Get-InboundConnector` / `Get-OutboundConnector` /
 * `Get-TransportRule` answer now. Nothing here changes anything in Exchange Online: a difference is reported, the
 * admin decides.
 */

export type MailflowObjectKind = 'InboundConnector' | 'OutboundConnector' | 'TransportRule';

/** An object Mailwarden created, with the parameters it gave `New-<kind>` (and later `Set-<kind>`). */
export interface CreatedMailflowObject {
  kind: MailflowObjectKind;
  name: string;
  parameters: Record<string, unknown>;
}

/** An object as Exchange Online answers `Get-<kind>` (property names as the cmdlet's output). */
export interface ExistingMailflowObject {
  kind: MailflowObjectKind;
  name: string;
  properties: Record<string, unknown>;
}

export type MailflowDifferenceProblem = 'missing' | 'disabled' | 'changed' | 'priority-changed';

export interface MailflowDifference {
  kind: MailflowObjectKind;
  name: string;
  problem: MailflowDifferenceProblem;
  /** The property that differs (changed / priority-changed / disabled). */
  property: string | null;
  expected: unknown;
  actual: unknown;
}

/**
 * Parameters that are not properties of the object as `Get-` shows it: `Name` is the key, `Enabled` of a transport
 * rule shows as `State`, `Comments` is free text an admin may edit without changing routing.
 */
const NOT_COMPARED = new Set(['name', 'identity', 'comments', 'confirm', 'whatif']);

/** Values compared as Exchange stores them: case-insensitive strings, lists as sets, `$true`/`$false` as booleans. */
export function normalizeCmdletValue(value: unknown): unknown {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => normalizeCmdletValue(item)).filter((item) => item !== null);
    return items.length === 0 ? null : [...items].sort((a, b) => String(a).localeCompare(String(b)));
  }
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === '$true' || lower === 'true') {
      return true;
    }
    if (lower === '$false' || lower === 'false') {
      return false;
    }
    return lower;
  }
  return value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(normalizeCmdletValue(a)) === JSON.stringify(normalizeCmdletValue(b));

function isDisabled(object: ExistingMailflowObject): boolean {
  if (object.kind === 'TransportRule') {
    // Get-TransportRule: State Enabled | Disabled (a rule in Mode Audit / AuditAndNotify does not act either).
    const state = String(object.properties.State ?? 'Enabled').toLowerCase();
    const mode = String(object.properties.Mode ?? 'Enforce').toLowerCase();
    return state !== 'enabled' || mode !== 'enforce';
  }
  return normalizeCmdletValue(object.properties.Enabled ?? true) === false;
}

/** Every difference between what Mailwarden created and what exists, in the order of `created`. */
export function compareMailflowObjects(created: readonly CreatedMailflowObject[], existing: readonly ExistingMailflowObject[]): MailflowDifference[] {
  const differences: MailflowDifference[] = [];
  for (const object of created) {
    const current = existing.find((candidate) => candidate.kind === object.kind && candidate.name.toLowerCase() === object.name.toLowerCase());
    if (!current) {
      differences.push({ kind: object.kind, name: object.name, problem: 'missing', property: null, expected: 'present', actual: null });
      continue;
    }
    if (isDisabled(current)) {
      const property = object.kind === 'TransportRule' ? (String(current.properties.State ?? 'Enabled').toLowerCase() !== 'enabled' ? 'State' : 'Mode') : 'Enabled';
      differences.push({ kind: object.kind, name: object.name, problem: 'disabled', property, expected: object.kind === 'TransportRule' ? (property === 'State' ? 'Enabled' : 'Enforce') : true, actual: current.properties[property] ?? null });
    }
    for (const [parameter, expected] of Object.entries(object.parameters)) {
      const key = parameter.toLowerCase();
      if (NOT_COMPARED.has(key) || key === 'enabled' || key === 'mode') {
        continue; // Enabled / Mode: reported as `disabled` above
      }
      const property = Object.keys(current.properties).find((candidate) => candidate.toLowerCase() === key) ?? parameter;
      const actual = current.properties[property];
      if (!same(expected, actual)) {
        differences.push({ kind: object.kind, name: object.name, problem: key === 'priority' ? 'priority-changed' : 'changed', property, expected, actual: actual ?? null });
      }
    }
  }
  return differences;
}

/** One line per difference, for alerts and logs. */
export function describeDifference(difference: MailflowDifference): string {
  const what = `${difference.kind} ${difference.name}`;
  switch (difference.problem) {
    case 'missing':
      return `${what} no longer exists in Exchange Online`;
    case 'disabled':
      return `${what} is disabled (${difference.property} ${JSON.stringify(difference.actual)})`;
    case 'priority-changed':
      return `${what} has priority ${JSON.stringify(difference.actual)} instead of ${JSON.stringify(difference.expected)}`;
    default:
      return `${what}: ${difference.property} is ${JSON.stringify(difference.actual)} instead of ${JSON.stringify(difference.expected)}`;
  }
}
