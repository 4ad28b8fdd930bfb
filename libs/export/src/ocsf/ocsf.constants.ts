import { createHash } from 'node:crypto';

/** The OCSF schema version every event is written against (`metadata.version`). */
export const OCSF_VERSION = '1.8.0';

export const EMAIL_ACTIVITY_CLASS_UID = 4009;
export const DETECTION_FINDING_CLASS_UID = 2004;
export const REMEDIATION_ACTIVITY_CLASS_UID = 7001;

export const OCSF_CLASSES = {
  [EMAIL_ACTIVITY_CLASS_UID]: { name: 'Email Activity', categoryUid: 4, categoryName: 'Network Activity' },
  [DETECTION_FINDING_CLASS_UID]: { name: 'Detection Finding', categoryUid: 2, categoryName: 'Findings' },
  [REMEDIATION_ACTIVITY_CLASS_UID]: { name: 'Remediation Activity', categoryUid: 7, categoryName: 'Remediation' },
} as const;

export type OcsfClassUid = keyof typeof OCSF_CLASSES;

export const SEVERITY = { Unknown: 0, Informational: 1, Low: 2, Medium: 3, High: 4, Critical: 5, Fatal: 6 } as const;
export const SEVERITY_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SEVERITY).map(([name, id]) => [id, name]));

/** security_control profile: action_id captions. */
export const ACTION = { Allowed: 1, Denied: 2, Observed: 3, Modified: 4 } as const;
export const ACTION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ACTION).map(([name, id]) => [id, name]));

/** disposition_id captions used here (dictionary.json). */
export const DISPOSITION = { Allowed: 1, Blocked: 2, Quarantined: 3, Detected: 15, Logged: 17, Tagged: 18, Rejected: 25 } as const;
export const DISPOSITION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DISPOSITION).map(([name, id]) => [id, name]));

/** Observable type ids (dictionary.json types' `observable`). */
export const OBSERVABLE = {
  Hostname: 1,
  'IP Address': 2,
  'Email Address': 5,
  'URL String': 6,
  'File Name': 7,
  Hash: 8,
} as const;

/** Mailwarden's version as reported in `metadata.product.version` (the root package.json's). */
export const PRODUCT_VERSION = '0.1.0';

/** The product that reports the events (`metadata.product`). */
export const PRODUCT = { name: 'Mailwarden', vendor_name: 'Mailwarden', uid: 'mailwarden' } as const;

/**
 * A stable event id: the same source record always gives the same `metadata.uid` (a UUID-shaped SHA-256 prefix), so
 * a receiver can drop the duplicates an at-least-once delivery may produce after a crash.
 */
export function stableUid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // RFC 9562 layout with version 8 (custom) and the RFC variant bits.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** email_t as OCSF defines it (dictionary.json): addresses it refuses are kept under `unmapped` instead. */
// The schema's own pattern, character for character (`+-/` is a range there).
const EMAIL = /^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$/;
export const isOcsfEmail = (value: string | null | undefined): value is string => typeof value === 'string' && EMAIL.test(value);
