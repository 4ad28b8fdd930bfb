/**
 * Byte-exact reading of an RFC 5322 header section. Works on latin1 strings so one character is one byte
 * and every offset maps back into the Buffer; 8-bit values are only decoded (decodeHeaderText) on request.
 * Lines end in CRLF or, tolerated, a bare LF. Every loop advances by indexOf, so cost is linear in the input.
 */

import { CR, HT, LF, SP } from './bytes';

export interface HeaderField {
  /** Field name as written (trailing WSP of the obsolete syntax removed). */
  name: string;
  /** Lower-cased name for case-insensitive lookup (RFC 5322 1.2.2: field names are case-insensitive). */
  key: string;
  /** Unfolded value, latin1 (one char per byte): RFC 5322 2.2.3 unfolding removes only the CRLFs. */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte (just after the empty line), or the end when there is no body. */
  bodyOffset: number;
  /** False when the section ran to the end of input or stopped at a line that is not a header field. */
  hasSeparator: boolean;
}

/** RFC 5322 3.6.8 ftext: printable US-ASCII except ':'. */
function isFieldName(name: string): boolean {
  if (name.length === 0) {
    return false;
  }
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 33 || code > 126 || code === 58) {
      return false;
    }
  }
  return true;
}

/** End offset of buf[start, end) without trailing SP/HT; a loop, since /[ \t]+$/ backtracks quadratically. */
function trimWspEnd(buf: Buffer, start: number, end: number): number {
  while (end > start && (buf[end - 1] === SP || buf[end - 1] === HT)) {
    end--;
  }
  return end;
}

/** Parses the header section of `buf[start, end)`. Never throws; a headerless input gives no fields. */
export function parseHeaderBlock(buf: Buffer, start = 0, end = buf.length): HeaderBlock {
  const fields: HeaderField[] = [];
  // Continuation pieces of the field being read, joined once it ends (linear even for long folds).
  let pending: { name: string; key: string; pieces: string[] } | undefined;
  const flush = () => {
    if (pending) {
      fields.push({ name: pending.name, key: pending.key, value: pending.pieces.join('') });
      pending = undefined;
    }
  };

  let pos = start;
  while (pos < end) {
    // Searches are bounded by `end` (subarray is a view): an unbounded indexOf would rescan the rest of
    // the buffer for every body part of a multipart, quadratic in the number of parts.
    let lf = buf.subarray(pos, end).indexOf(LF);
    lf = lf < 0 ? end : pos + lf;
    const next = lf < end ? lf + 1 : end;
    const lineEnd = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;

    if (lineEnd === pos) {
      // RFC 5322 2.1: the first empty line ends the header section.
      flush();
      return { fields, bodyOffset: next, hasSeparator: true };
    }
    const first = buf[pos];
    if ((first === SP || first === HT) && pending) {
      pending.pieces.push(buf.toString('latin1', pos, lineEnd));
      pos = next;
      continue;
    }
    const colonInLine = buf.subarray(pos, lineEnd).indexOf(0x3a);
    const colon = colonInLine < 0 ? -1 : pos + colonInLine;
    const name = colon >= 0 ? buf.toString('latin1', pos, trimWspEnd(buf, pos, colon)) : '';
    if (!isFieldName(name)) {
      // Not a header line: treat it as the start of the body rather than guess (RFC 5322 2.2).
      flush();
      return { fields, bodyOffset: pos, hasSeparator: false };
    }
    flush();
    pending = { name, key: name.toLowerCase(), pieces: [buf.toString('latin1', colon + 1, lineEnd)] };
    pos = next;
  }
  flush();
  return { fields, bodyOffset: end, hasSeparator: false };
}

/** First field named `name` (case-insensitive), or undefined. RFC 5322 fields added in transit go on top. */
export function getHeader(block: HeaderBlock, name: string): string | undefined {
  const key = name.toLowerCase();
  return block.fields.find((field) => field.key === key)?.value;
}

export function hasHeader(block: HeaderBlock, name: string): boolean {
  return getHeader(block, name) !== undefined;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns a latin1 header value into text: RFC 6532 allows raw UTF-8 in headers, older software wrote 8-bit
 * Latin-1. Valid UTF-8 wins, anything else is read as Latin-1 (each byte one code point) so nothing throws.
 */
export function decodeHeaderText(latin1: string): string {
  if (!/[^\x00-\x7f]/.test(latin1)) {
    return latin1;
  }
  const bytes = Buffer.from(latin1, 'latin1');
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return latin1;
  }
}
