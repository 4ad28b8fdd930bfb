import { ApiProblem, ProblemCode } from './problem-code';

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor whose fields are all present strings; anything else is a 400 INVALID_CURSOR. */
export function decodeCursor<K extends string>(cursor: string | undefined, fields: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined) {
    return undefined;
  }
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (parsed && typeof parsed === 'object' && fields.every((field) => typeof parsed[field] === 'string')) {
      return parsed as Record<K, string>;
    }
  } catch {
    // fall through
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
