import type { AddressList, DmarcFailureAction, PolicyAction } from './policy.types';

/**
 * Levels a policy is set at (same literals as the database enum `PolicyScope`). Values resolve bottom-up
 * (USER beats GROUP beats DOMAIN beats ACCOUNT beats PARTNER beats the built-in default); locks resolve
 * top-down (the highest level that locks an option fixes it for every level below).
 */
export type PolicyLevel = 'PARTNER' | 'ACCOUNT' | 'DOMAIN' | 'GROUP' | 'USER';

/** Top-down order: the order in which levels are applied. */
export const POLICY_LEVELS: readonly PolicyLevel[] = ['PARTNER', 'ACCOUNT', 'DOMAIN', 'GROUP', 'USER'];

/** Where an effective value came from: a policy row (level + scope id) or the built-in default. */
export interface PolicySource {
  level: PolicyLevel | 'DEFAULT';
  /** Scope id (partner, account, domain, group or user id); null for DEFAULT. */
  id: string | null;
}

export const DEFAULT_SOURCE: PolicySource = Object.freeze({ level: 'DEFAULT', id: null }) as PolicySource;

/** One stored policy: partial settings plus the option paths it locks (`Policy.settings` / `Policy.locks`). */
export interface PolicyLayer<TPatch> {
  id: string;
  settings: TPatch;
  /** Option paths (or prefixes of them, e.g. `senderChecks.dmarc`) locked at this level. */
  locks?: string[];
}

/** The policies that apply to one recipient. Absent levels are simply skipped. */
export interface PolicyLayers<TPatch> {
  partner?: PolicyLayer<TPatch>;
  account?: PolicyLayer<TPatch>;
  domain?: PolicyLayer<TPatch>;
  /**
   * The recipient's groups in precedence order: the first group wins over the next ones. The caller owns the
   * order (e.g. by group name); resolution is deterministic for a given order.
   */
  groups?: PolicyLayer<TPatch>[];
  user?: PolicyLayer<TPatch>;
}

/** How one option was resolved; the admin API shows this next to each effective value. */
export interface OptionResolution {
  /** For single values: the level whose value won. For lists: the lowest level that added to the list (DEFAULT if none). */
  source: PolicySource;
  /** Lists only: every level that added entries, top-down. */
  contributors?: PolicySource[];
  locked: boolean;
  /** The highest level that locked the option. */
  lockedBy?: PolicySource;
  /** Lower levels whose settings for this option were ignored because of the lock, top-down. */
  overriddenByLock?: PolicySource[];
}

export interface ResolvedPolicy<TSettings> {
  settings: TSettings;
  /** Keyed by option path, e.g. `senderChecks.dmarc.action`, `blockList.domains`, `rules.<id>`. */
  options: Record<string, OptionResolution>;
}

/** A partial Email Security policy as stored at one level; lists add to the lists above (see resolve-policy.ts). */
export interface EmailSecuritySettingsPatch {
  senderChecks?: {
    dmarc?: { enabled?: boolean; action?: DmarcFailureAction };
    spf?: { enabled?: boolean; action?: PolicyAction };
    dkim?: { enabled?: boolean; action?: PolicyAction };
    headerAnomaly?: { enabled?: boolean; action?: PolicyAction };
    trustedArcSealers?: string[];
  };
  allowList?: Partial<AddressList>;
  blockList?: Partial<AddressList>;
  blockAction?: PolicyAction;
  subjectTag?: string;
}
