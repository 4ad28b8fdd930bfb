/**
 * Bare CR and bare LF detection and repair. RFC 5321 2.3.8 allows CR and LF in mail only as the CRLF
 * pair; SMTP smuggling (CVE-2023-51764 and its siblings) hides a second message behind `<LF>.<CR><LF>` or
 * `<CR>.<CR>` sequences that one hop ignores and the next treats as end of data. smtp-server passes such
 * bytes through (DESIGN.md 10), so anything Mailwarden relays must be checked or normalised first.
 */

const CR = 0x0d;
const LF = 0x0a;

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
  for (let i = 0; i < raw.length && found.length < limit; i++) {
    const byte = raw[i];
    if (byte === CR) {
      if (raw[i + 1] === LF) {
        i++;
      } else {
        found.push({ offset: i, kind: 'CR' });
      }
    } else if (byte === LF) {
      found.push({ offset: i, kind: 'LF' });
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
