import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiProblem, ProblemCode } from './problem-code';

const MAC_BYTES = 16;
// Replaced at start by the configured key (setCursorSigningKey); until then, and without one, a key of this process.
let signingKey: Buffer = randomBytes(32);

/** The server key cursors are signed with (CURSOR_SECRET, see AdminApiConfig); every instance must share it. */
export function setCursorSigningKey(key: Buffer): void {
  signingKey = key;
}

/**
 * The signing key a configuration asks for: CURSOR_SECRET; else one derived from SECRETS_KEY (HKDF, so it reveals
 * nothing of it); else null (keep this process's random key: cursors then work only on the instance that made them
 * and until it restarts).
 */
export function cursorSigningKeyOf(config: { CURSOR_SECRET: string; SECRETS_KEY: string }): Buffer | null {
  if (config.CURSOR_SECRET) {
    return createHash('sha256').update(config.CURSOR_SECRET, 'utf8').digest();
  }
  if (config.SECRETS_KEY) {
    return Buffer.from(hkdfSync('sha256', Buffer.from(config.SECRETS_KEY, 'base64'), Buffer.alloc(0), 'mailwarden cursor signing', 32));
  }
  return null;
}

function mac(payload: string, fields: readonly string[]): Buffer {
  // The sort-key field names are signed too: a cursor of a list ordered by other fields is refused.
  return createHmac('sha256', signingKey).update(`${[...fields].sort().join(',')}\n${payload}`).digest().subarray(0, MAC_BYTES);
}

/**
 * Opaque cursors: base64url JSON of the last row's sort key, then `.` and an HMAC-SHA256 of it with the server key,
 * so that a client cannot forge or edit one (what a list did not return answers 400 INVALID_CURSOR).
 */
export function encodeCursor(key: Record<string, string>): string {
  const payload = Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
  return `${payload}.${mac(payload, Object.keys(key)).toString('base64url')}`;
}

/** Decodes a signed cursor whose fields are all present strings; anything else is a 400 INVALID_CURSOR. */
export function decodeCursor<K extends string>(cursor: string | undefined, fields: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined) {
    return undefined;
  }
  const [payload, signature, extra] = cursor.split('.');
  const given = Buffer.from(signature ?? '', 'base64url');
  if (payload && extra === undefined && given.length === MAC_BYTES && timingSafeEqual(given, mac(payload, fields))) {
    try {
      const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object' && fields.every((field) => typeof parsed[field] === 'string')) {
        return parsed as Record<K, string>;
      }
    } catch {
      // fall through
    }
  }
  throw new ApiProblem(400, ProblemCode.InvalidCursor, 'cursor is not a cursor this list returned');
}

// PostgreSQL's timestamptz reaches further, but no row of ours is dated outside these years.
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

export function decodeDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date.getTime() < EARLIEST || date.getTime() > LATEST) {
    throw new ApiProblem(400, ProblemCode.InvalidCursor, 'cursor is not a cursor this list returned');
  }
  return date;
}

export function decodeUuid(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new ApiProblem(400, ProblemCode.InvalidCursor, 'cursor is not a cursor this list returned');
  }
  return value;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Rows were fetched with `limit + 1`: the extra row only says that there is a next page. */
export function toPage<R, T>(rows: R[], limit: number, cursorOf: (row: R) => Record<string, string>, map: (row: R) => T): Page<T> {
  const pageRows = rows.slice(0, limit);
  return {
    items: pageRows.map(map),
    nextCursor: rows.length > limit && pageRows.length > 0 ? encodeCursor(cursorOf(pageRows[pageRows.length - 1]!)) : null,
  };
}

export const pageLimit = (limit: number | undefined): number => limit ?? 50;
