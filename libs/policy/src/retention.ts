import { PolicyValidationCode, type PolicyValidationError } from './policy.errors';

/**
 * How long a tenant's data is kept (issue 20), in days. Stored as the RETENTION policy: ACCOUNT scope holds the
 * tenant's windows, PARTNER scope the partner's ceiling for every tenant of the partner.
 */
export interface RetentionSettings {
  /** Message history and verdicts (message rows, verdicts, recipient events, deliveries, outbox events). */
  historyDays: number;
  /** Quarantine items expire this many days after they were created: deleted and audited as expired. */
  quarantineDays: number;
  /** The tenant's admin audit log. */
  auditLogDays: number;
}

export type RetentionSettingsPatch = Partial<RetentionSettings>;

/** Sophos-like defaults: 30 days of history and quarantine, a year of audit log. */
export const DEFAULT_RETENTION: Readonly<RetentionSettings> = Object.freeze({ historyDays: 30, quarantineDays: 30, auditLogDays: 365 });

/** The ceiling when the partner set none: what the platform keeps at most. */
export const MAX_RETENTION: Readonly<RetentionSettings> = Object.freeze({ historyDays: 365, quarantineDays: 365, auditLogDays: 3650 });

export const RETENTION_FIELDS = ['historyDays', 'quarantineDays', 'auditLogDays'] as const satisfies ReadonlyArray<keyof RetentionSettings>;

/** Every window a tenant's data is kept for, as the purge applies them. */
export interface EffectiveRetention extends RetentionSettings {
  /**
   * Raw message bytes (and the message rows through which they are reached): the longest of the emergency-inbox
   * window, the quarantine expiry and the history.
   */
  rawMessageDays: number;
  /** The partner's ceiling the windows were held under. */
  ceiling: RetentionSettings;
}

/** Refuses anything but whole days from 1 to the platform maximum, for the known fields. */
export function validateRetentionSettings(settings: unknown): PolicyValidationError[] {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    return [{ field: '', code: PolicyValidationCode.InvalidType, message: 'must be an object' }];
  }
  const errors: PolicyValidationError[] = [];
  for (const [field, value] of Object.entries(settings)) {
    if (!(RETENTION_FIELDS as readonly string[]).includes(field)) {
      errors.push({ field, code: PolicyValidationCode.UnknownField, message: `unknown field (allowed: ${RETENTION_FIELDS.join(', ')})` });
      continue;
    }
    const max = MAX_RETENTION[field as keyof RetentionSettings];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      errors.push({ field, code: PolicyValidationCode.InvalidType, message: 'must be a whole number of days' });
    } else if (value < 1 || value > max) {
      errors.push({ field, code: PolicyValidationCode.InvalidValue, message: `must be between 1 and ${max} days` });
    }
  }
  return errors;
}

/** Retention has no option locks: the partner bounds tenants by its ceiling instead. */
export function validateRetentionLocks(locks: readonly string[]): PolicyValidationError[] {
  return locks.map((lock, index) => ({ field: `locks[${index}]`, code: PolicyValidationCode.UnknownLockPath, message: `retention has no locks (the partner policy is a ceiling): ${lock}` }));
}

/** The partner's ceiling: its stored values, the platform maximum for the rest. */
export function retentionCeiling(partner: RetentionSettingsPatch | null | undefined): RetentionSettings {
  return { ...MAX_RETENTION, ...pickRetention(partner) };
}

/** The fields of `settings` that exceed `ceiling` (the admin API refuses them). */
export function retentionAboveCeiling(settings: RetentionSettingsPatch, ceiling: RetentionSettings): Array<keyof RetentionSettings> {
  return RETENTION_FIELDS.filter((field) => settings[field] !== undefined && settings[field]! > ceiling[field]);
}

/**
 * The windows the purge applies to one tenant: its settings over the defaults, each held under the partner's
 * ceiling (a ceiling lowered after a tenant chose more wins), and the raw bytes kept for the longest of the
 * emergency inbox, the quarantine and the history.
 */
export function resolveRetention(account: RetentionSettingsPatch | null | undefined, partner: RetentionSettingsPatch | null | undefined, emergencyInboxDays: number): EffectiveRetention {
  const ceiling = retentionCeiling(partner);
  const chosen = { ...DEFAULT_RETENTION, ...pickRetention(account) };
  const held = Object.fromEntries(RETENTION_FIELDS.map((field) => [field, Math.min(chosen[field], ceiling[field])])) as unknown as RetentionSettings;
  return { ...held, rawMessageDays: Math.max(emergencyInboxDays, held.quarantineDays, held.historyDays), ceiling };
}

function pickRetention(settings: RetentionSettingsPatch | null | undefined): RetentionSettingsPatch {
  const picked: RetentionSettingsPatch = {};
  for (const field of RETENTION_FIELDS) {
    const value = settings?.[field];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 1) {
      picked[field] = value;
    }
  }
  return picked;
}
