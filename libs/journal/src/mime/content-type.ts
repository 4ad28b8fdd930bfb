/** RFC 2045 5.1 Content-Type and RFC 2045 6.1 Content-Transfer-Encoding values, read with a linear scanner. */

export interface ContentType {
  /** Lower-cased `type/subtype`; RFC 2045 5.2 default `text/plain` when absent or unreadable. */
  mediaType: string;
  /** Lower-cased parameter names; values unquoted, case kept (a boundary is case-sensitive). */
  params: Record<string, string>;
}

const DEFAULT_CONTENT_TYPE: ContentType = { mediaType: 'text/plain', params: { charset: 'us-ascii' } };

/** Skips WSP and RFC 5322 comments (nested, with quoted-pairs) from `i`; returns the next index. */
function skipCfws(value: string, i: number): number {
  let depth = 0;
  while (i < value.length) {
    const ch = value[i];
    if (depth > 0) {
      if (ch === '\\') {
        i++;
      } else if (ch === '(') {
        depth++;
      } else if (ch === ')') {
        depth--;
      }
    } else if (ch === '(') {
      depth++;
    } else if (ch !== ' ' && ch !== '\t' && ch !== '\r' && ch !== '\n') {
      return i;
    }
    i++;
  }
  return i;
}

/** RFC 2045 5.1 tspecials end a token. */
const TSPECIALS = new Set(['(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', ' ', '\t', '\r', '\n']);

function readToken(value: string, i: number): [string, number] {
  const start = i;
  while (i < value.length && !TSPECIALS.has(value[i])) {
    i++;
  }
  return [value.slice(start, i), i];
}

function readQuoted(value: string, i: number): [string, number] {
  // value[i] is the opening quote.
  let out = '';
  i++;
  while (i < value.length && value[i] !== '"') {
    if (value[i] === '\\' && i + 1 < value.length) {
      i++;
    }
    out += value[i];
    i++;
  }
  return [out, i + 1];
}

/** Parses a Content-Type value; never throws. Missing or malformed type gives RFC 2045's default. */
export function parseContentType(value: string | undefined): ContentType {
  if (value === undefined) {
    return DEFAULT_CONTENT_TYPE;
  }
  const [type, afterType] = readToken(value, skipCfws(value, 0));
  let i = skipCfws(value, afterType);
  if (!type || value[i] !== '/') {
    return DEFAULT_CONTENT_TYPE;
  }
  const [subtype, afterSubtype] = readToken(value, skipCfws(value, i + 1));
  i = afterSubtype;
  if (!subtype) {
    return DEFAULT_CONTENT_TYPE;
  }
  // No prototype: a parameter named `__proto__` or `constructor` is just a name.
  const params: Record<string, string> = Object.create(null);
  while (i < value.length) {
    i = skipCfws(value, i);
    if (value[i] !== ';') {
      // Junk between parameters: skip one character and resynchronise on the next ';'.
      const semi = value.indexOf(';', i);
      if (semi < 0) {
        break;
      }
      i = semi;
    }
    i = skipCfws(value, i + 1);
    let name: string;
    [name, i] = readToken(value, i);
    i = skipCfws(value, i);
    if (!name || value[i] !== '=') {
      continue;
    }
    i = skipCfws(value, i + 1);
    let paramValue: string;
    if (value[i] === '"') {
      [paramValue, i] = readQuoted(value, i);
    } else {
      [paramValue, i] = readToken(value, i);
    }
    const key = name.toLowerCase();
    // RFC 2045 5.1: parameters appear once; keep the first so a later duplicate cannot override it.
    if (!(key in params)) {
      params[key] = paramValue;
    }
  }
  return { mediaType: `${type}/${subtype}`.toLowerCase(), params };
}

/** Lower-cased Content-Transfer-Encoding mechanism; RFC 2045 6.1 default `7bit`. */
export function parseTransferEncoding(value: string | undefined): string {
  const mechanism = value?.replace(/\([^()]*\)/g, '').trim().toLowerCase();
  return mechanism || '7bit';
}
