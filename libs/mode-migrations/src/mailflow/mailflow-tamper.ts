import type { MailflowObject } from '@mailwarden/db';
import type { CmdletParameters } from '@mailwarden/microsoft365';
import { differingParameters } from './mailflow-objects';

/**
 * Tamper detection of Mailwarden's Exchange Online mailflow objects (issue 16), the pure part: what Mailwarden
 * created (`mailflow_object`: the parameters it gave New-/Set-) against what `Get-InboundConnector`,
 * `Get-OutboundConnector`, `Get-TransportRule` and `Get-ArcConfig` answer now. Nothing here changes anything in
 * Exchange Online: a difference is reported, the admin decides.
 */

export type MailflowDifferenceProblem = 'missing' | 'replaced' | 'disabled' | 'changed' | 'priority-changed';

export interface MailflowDifference {
  /** mailflow_object kind: INBOUND_CONNECTOR, OUTBOUND_CONNECTOR, TRANSPORT_RULE, ARC_TRUSTED_SEALER. */
  kind: string;
  name: string;
  problem: MailflowDifferenceProblem;
  /** The property that differs (changed / priority-changed / disabled / replaced). */
  property: string | null;
  expected: unknown;
  actual: unknown;
}

/** What Exchange Online holds now (Get-* answers as they came). */
export interface ExchangeMailflowState {
  inboundConnectors: Array<Record<string, unknown>>;
  outboundConnectors: Array<Record<string, unknown>>;
  transportRules: Array<Record<string, unknown>>;
  arcTrustedSealers: string[];
}

const sameName = (object: Record<string, unknown>, name: string) => String(object.Name ?? object.Identity ?? '').toLowerCase() === name.toLowerCase();

function disabledProperty(kind: string, object: Record<string, unknown>): { property: string; expected: unknown } | null {
  if (kind === 'TRANSPORT_RULE') {
    // Get-TransportRule: State Enabled | Disabled; a rule in Mode Audit / AuditAndNotify does not route either.
    if (String(object.State ?? 'Enabled') !== 'Enabled') {
      return { property: 'State', expected: 'Enabled' };
    }
    return null; // Mode is one of Mailwarden's parameters: a change is reported as `changed`
  }
  return object.Enabled === false || String(object.Enabled).toLowerCase() === 'false' ? { property: 'Enabled', expected: true } : null;
}

/** Every difference between what Mailwarden created and what exists, in the order of `created`. */
export function compareMailflowObjects(created: ReadonlyArray<Pick<MailflowObject, 'kind' | 'name' | 'exchangeGuid' | 'parameters'>>, state: ExchangeMailflowState): MailflowDifference[] {
  const differences: MailflowDifference[] = [];
  for (const object of created) {
    if (object.kind === 'ARC_TRUSTED_SEALER') {
      if (!state.arcTrustedSealers.some((sealer) => sealer.toLowerCase() === object.name.toLowerCase())) {
        differences.push({ kind: object.kind, name: object.name, problem: 'missing', property: 'ArcTrustedSealers', expected: object.name, actual: state.arcTrustedSealers });
      }
      continue;
    }
    const pool = object.kind === 'INBOUND_CONNECTOR' ? state.inboundConnectors : object.kind === 'OUTBOUND_CONNECTOR' ? state.outboundConnectors : state.transportRules;
    const current = pool.find((candidate) => sameName(candidate, object.name));
    if (!current) {
      differences.push({ kind: object.kind, name: object.name, problem: 'missing', property: null, expected: 'present', actual: null });
      continue;
    }
    if (object.exchangeGuid && current.Guid && String(current.Guid).toLowerCase() !== object.exchangeGuid.toLowerCase()) {
      // Same name, another object: deleted and re-created by someone (its settings are whatever they chose).
      differences.push({ kind: object.kind, name: object.name, problem: 'replaced', property: 'Guid', expected: object.exchangeGuid, actual: current.Guid });
    }
    const disabled = disabledProperty(object.kind, current);
    if (disabled) {
      differences.push({ kind: object.kind, name: object.name, problem: 'disabled', property: disabled.property, expected: disabled.expected, actual: current[disabled.property] ?? null });
    }
    const parameters = (object.parameters ?? {}) as CmdletParameters;
    for (const property of differingParameters(current, parameters)) {
      differences.push({
        kind: object.kind,
        name: object.name,
        problem: property === 'Priority' ? 'priority-changed' : 'changed',
        property,
        expected: parameters[property] ?? null,
        actual: current[property] ?? null,
      });
    }
  }
  return differences;
}

/** One line per difference, for alerts and logs. */
export function describeDifference(difference: MailflowDifference): string {
  const what = `${difference.kind} ${difference.name}`;
  switch (difference.problem) {
    case 'missing':
      return difference.kind === 'ARC_TRUSTED_SEALER' ? `${difference.name} is no longer a trusted ARC sealer` : `${what} no longer exists in Exchange Online`;
    case 'replaced':
      return `${what} was deleted and created again by someone else (Guid ${JSON.stringify(difference.actual)})`;
    case 'disabled':
      return `${what} is disabled (${difference.property} ${JSON.stringify(difference.actual)})`;
    case 'priority-changed':
      return `${what} has priority ${JSON.stringify(difference.actual)} instead of ${JSON.stringify(difference.expected)}`;
    default:
      return `${what}: ${difference.property} is ${JSON.stringify(difference.actual)} instead of ${JSON.stringify(difference.expected)}`;
  }
}
