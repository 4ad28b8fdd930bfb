import type { PolicyLayer, PolicyLayers, PolicyLevel } from './policy-resolution.types';

/** A stored policy row, reduced to what resolution needs (the `Policy` model of @mailwarden/db fits it). */
export interface StoredPolicyRow {
  scope: PolicyLevel;
  scopeId: string;
  settings: unknown;
  locks: string[];
}

/** Who a policy is resolved for: the ids of each level; groups in precedence order (first wins). */
export interface PolicyTarget {
  partnerId?: string | null;
  accountId: string;
  domainId?: string | null;
  groupIds?: readonly string[];
  userId?: string | null;
}

/**
 * Picks, from the rows of one policy kind, the layers that apply to `target`. Rows for other scopes are ignored.
 * Settings stay `unknown` until resolveEmailSecurityPolicy / resolveDataControlPolicy validate them.
 */
export function buildPolicyLayers<TPatch>(rows: readonly StoredPolicyRow[], target: PolicyTarget): PolicyLayers<TPatch> {
  const find = (scope: PolicyLevel, id: string | null | undefined): PolicyLayer<TPatch> | undefined => {
    if (!id) {
      return undefined;
    }
    const row = rows.find((candidate) => candidate.scope === scope && candidate.scopeId === id);
    return row ? { id: row.scopeId, settings: row.settings as TPatch, locks: [...row.locks] } : undefined;
  };
  const groups = (target.groupIds ?? []).map((id) => find('GROUP', id)).filter((layer): layer is PolicyLayer<TPatch> => layer !== undefined);
  return {
    partner: find('PARTNER', target.partnerId),
    account: find('ACCOUNT', target.accountId),
    domain: find('DOMAIN', target.domainId),
    groups,
    user: find('USER', target.userId),
  };
}
