import {
  MimecastLogKind,
  type AttachmentLog,
  type ImpersonationLog,
  type MimecastLogRecord,
  type UrlClickLog,
} from './mimecast.types';

export type ValidationResult<T> = { ok: true; record: T } | { ok: false; reason: string };

// Mimecast writes `2024-11-17T03:23:20+0000`; ISO 8601 forms with `+00:00`, `Z` or milliseconds are accepted too.
const MIMECAST_DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})$/;

/** Parses a Mimecast timestamp; null when it is not one (a free-form date would sort alerts wrongly). */
export function parseMimecastDate(value: string): Date | null {
  const match = MIMECAST_DATE.exec(value.trim());
  if (!match) {
    return null;
  }
  const zone = match[2] === 'Z' ? 'Z' : `${match[2]!.slice(0, 3)}:${match[2]!.slice(-2)}`;
  const date = new Date(`${match[1]}${zone}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Formats a date the way Mimecast's `from`/`to` filters expect it. */
export function formatMimecastDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}

type Check = (record: Record<string, unknown>) => string | null;

const requiredString =
  (field: string): Check =>
  (record) =>
    typeof record[field] === 'string' && (record[field] as string).trim() !== '' ? null : `${field} must be a non-empty string`;

const optionalString =
  (field: string): Check =>
  (record) =>
    record[field] === undefined || record[field] === null || typeof record[field] === 'string' ? null : `${field} must be a string`;

const optionalNumber =
  (field: string): Check =>
  (record) =>
    record[field] === undefined || (typeof record[field] === 'number' && Number.isFinite(record[field])) ? null : `${field} must be a number`;

const optionalBoolean =
  (field: string): Check =>
  (record) =>
    record[field] === undefined || typeof record[field] === 'boolean' ? null : `${field} must be a boolean`;

const optionalArray =
  (field: string): Check =>
  (record) =>
    record[field] === undefined || Array.isArray(record[field]) ? null : `${field} must be an array`;

const mimecastDate =
  (field: string): Check =>
  (record) =>
    typeof record[field] === 'string' && parseMimecastDate(record[field] as string) ? null : `${field} must be a Mimecast timestamp`;

// Address fields hold `<>` for the null sender (bounces), which is a real value, so only emptiness is refused.
const SCHEMAS: Record<MimecastLogKind, Check[]> = {
  [MimecastLogKind.Attachment]: [
    requiredString('senderAddress'),
    requiredString('recipientAddress'),
    requiredString('result'),
    mimecastDate('date'),
    optionalString('fileName'),
    optionalString('fileType'),
    optionalString('fileHash'),
    optionalString('definition'),
    optionalString('subject'),
    optionalString('messageId'),
    optionalString('route'),
  ],
  [MimecastLogKind.Impersonation]: [
    requiredString('senderAddress'),
    requiredString('recipientAddress'),
    requiredString('action'),
    mimecastDate('eventTime'),
    optionalNumber('hits'),
    optionalBoolean('taggedMalicious'),
    optionalBoolean('taggedExternal'),
    optionalArray('impersonationResults'),
    optionalArray('identifiers'),
    optionalString('definition'),
    optionalString('subject'),
    optionalString('messageId'),
  ],
  [MimecastLogKind.Url]: [
    requiredString('userEmailAddress'),
    requiredString('fromUserEmailAddress'),
    requiredString('url'),
    requiredString('scanResult'),
    mimecastDate('date'),
    optionalString('ttpDefinition'),
    optionalString('reason'),
    optionalString('creationMethod'),
    optionalString('subject'),
    optionalString('messageId'),
    optionalString('route'),
  ],
};

/**
 * Checks one log record against the hand-written schema of its kind: the fields Mailwarden stores, maps or
 * filters on must be present and typed; anything else Mimecast adds is kept in `raw` untouched.
 */
export function validateMimecastLog(kind: MimecastLogKind.Attachment, value: unknown): ValidationResult<AttachmentLog>;
export function validateMimecastLog(kind: MimecastLogKind.Impersonation, value: unknown): ValidationResult<ImpersonationLog>;
export function validateMimecastLog(kind: MimecastLogKind.Url, value: unknown): ValidationResult<UrlClickLog>;
export function validateMimecastLog(kind: MimecastLogKind, value: unknown): ValidationResult<MimecastLogRecord>;
export function validateMimecastLog(kind: MimecastLogKind, value: unknown): ValidationResult<MimecastLogRecord> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'record must be an object' };
  }
  for (const check of SCHEMAS[kind]) {
    const problem = check(value as Record<string, unknown>);
    if (problem) {
      return { ok: false, reason: problem };
    }
  }
  return { ok: true, record: value as MimecastLogRecord };
}
