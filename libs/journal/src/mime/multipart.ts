/**
 * Byte-exact RFC 2046 5.1 multipart splitting: each body part is reported as offsets into the original
 * Buffer, so a part can be sliced out unaltered (no decoding, no re-encoding, no line-end rewriting).
 */

import { parseHeaderBlock, type HeaderBlock } from './header-block';
import { CR, DASH, HT, LF, SP } from './bytes';

export interface BodyPart {
  /** First byte of the part (its header section), just after the delimiter line. */
  start: number;
  /** End of the part: the CRLF before the next delimiter belongs to the delimiter (RFC 2046 5.1.1). */
  end: number;
  headers: HeaderBlock;
  /** First byte of the part's body (after its header section). */
  bodyStart: number;
}

export interface Multipart {
  parts: BodyPart[];
  /** Whether the close delimiter `--boundary--` was seen. */
  closed: boolean;
}

/**
 * Splits `buf[start, end)` on `--boundary` lines. A delimiter counts only at the start of a line and
 * when followed by optional transport padding (LWSP) and a line break, or by `--` (the close delimiter);
 * `--boundaryX` is content. Missing close delimiter: the last part runs to `end` (what MUAs do; the
 * caller can see `closed`). Returns no parts when the boundary never opens one.
 */
export function splitMultipart(buf: Buffer, boundary: string, start = 0, end = buf.length): Multipart {
  const needle = Buffer.from(`--${boundary}`, 'latin1');
  const parts: BodyPart[] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const found = buf.subarray(pos, end).indexOf(needle);
    if (found < 0) {
      break;
    }
    const at = pos + found;
    pos = at + 1;
    if (at !== start && buf[at - 1] !== LF) {
      continue;
    }
    let j = at + needle.length;
    const isClose = buf[j] === DASH && buf[j + 1] === DASH && j + 1 < end;
    if (!isClose) {
      while (j < end && (buf[j] === SP || buf[j] === HT)) j++;
      if (j < end && buf[j] !== LF && !(buf[j] === CR && buf[j + 1] === LF)) {
        continue;
      }
    }
    if (partStart >= 0) {
      // Give the line break before the delimiter back to the delimiter.
      let partEnd = at;
      if (partEnd > partStart && buf[partEnd - 1] === LF) partEnd--;
      if (partEnd > partStart && buf[partEnd - 1] === CR) partEnd--;
      parts.push(makePart(buf, partStart, partEnd));
    }
    if (isClose) {
      return { parts, closed: true };
    }
    const lf = buf.subarray(j, end).indexOf(LF);
    partStart = lf < 0 ? end : j + lf + 1;
    pos = partStart;
  }
  if (partStart >= 0) {
    parts.push(makePart(buf, partStart, end));
  }
  return { parts, closed: false };
}

function makePart(buf: Buffer, start: number, end: number): BodyPart {
  const headers = parseHeaderBlock(buf, start, end);
  // RFC 2046 5.1.1: a part may start with the empty line (no header fields: text/plain, us-ascii).
  return { start, end, headers, bodyStart: headers.bodyOffset };
}
