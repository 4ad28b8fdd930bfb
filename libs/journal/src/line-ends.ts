/**
 * Bare CR and bare LF detection and repair. RFC 5321 2.3.8 allows CR and LF in mail only as the CRLF
 * pair; SMTP smuggling (CVE-2023-51764 and its siblings) hides a second message behind `<LF>.<CR><LF>` or
 * `<CR>.<CR>` sequences that one hop ignores and the next treats as end of data. smtp-server passes such
 * bytes through (DESIGN.md 10), so anything Mailwarden relays must be checked or normalised first.
 */

import { CR, LF } from './mime/bytes';

export interface BareLineEnd {
  /** Byte offset of the lone CR or LF. */
  offset: number;
  kind: 'CR' | 'LF';
}

/**
 * Every CR not followed by LF and every LF not preceded by CR, in order. `limit` stops the scan early
 * (e.g. 1 to log the first one); a message of bare LFs would otherwise give one entry per line.
 */
export function findBareLineEnds(raw: Buffer, limit = Number.POSITIVE_INFINITY): BareLineEnd[] {
  const found: BareLineEnd[] = [];
  // Jumps between CRs and LFs with indexOf (native memchr) instead of a byte loop: about 3x faster on
  // ordinary mail, and every search starts past the last one, so the scan stays linear.
  let nextCr = raw.indexOf(CR);
  let nextLf = raw.indexOf(LF);
  while ((nextCr >= 0 || nextLf >= 0) && found.length < limit) {
    if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
      if (nextLf === nextCr + 1) {
        nextCr = raw.indexOf(CR, nextLf + 1);
        nextLf = raw.indexOf(LF, nextLf + 1);
      } else {
        found.push({ offset: nextCr, kind: 'CR' });
        nextCr = raw.indexOf(CR, nextCr + 1);
      }
    } else {
      found.push({ offset: nextLf, kind: 'LF' });
      nextLf = raw.indexOf(LF, nextLf + 1);
    }
  }
  return found;
}

/** True when `raw` holds a CR or LF outside a CRLF pair. */
export function hasBareCrOrLf(raw: Buffer): boolean {
  return findBareLineEnds(raw, 1).length > 0;
}

/**
 * Rewrites every bare CR and bare LF as CRLF, as Postfix does for mail it relays, so the next hop sees the
 * same line structure Mailwarden saw. CRLF pairs are kept; `\r\r\n` becomes `\r\n\r\n` (the lone CR is
 * its own line end). Returns `raw` itself when it is already clean, so clean mail costs no copy.
 */
export function normalizeLineEnds(raw: Buffer): Buffer {
  const bare = findBareLineEnds(raw);
  if (bare.length === 0) {
    return raw;
  }
  const out = Buffer.allocUnsafe(raw.length + bare.length);
  let from = 0;
  let o = 0;
  for (const { offset } of bare) {
    o += raw.copy(out, o, from, offset);
    out[o++] = CR;
    out[o++] = LF;
    from = offset + 1;
  }
  o += raw.copy(out, o, from);
  return out.subarray(0, o);
}
