/** RFC 2045 6 Content-Transfer-Encoding decoders and charset decoding. Lenient: bad input never throws. */

import { CR, HT, LF, SP } from './bytes';

const EQUALS = 0x3d;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * RFC 2045 6.7 quoted-printable. Soft line breaks (`=` CRLF, or `=` LF) vanish, `=XX` becomes one byte,
 * trailing SP/HT before a line break is dropped (rule 3: it was added in transport), and a malformed
 * `=` is kept literally, as the RFC advises a robust decoder to do.
 */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let o = 0;
  // Length of out up to the last non-WSP byte on the current line, to cut transport padding.
  let lineContentEnd = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    if (byte === EQUALS) {
      // WSP before a soft line break is content, not transport padding.
      if (input[i + 1] === CR && input[i + 2] === LF) {
        lineContentEnd = o;
        i += 2;
        continue;
      }
      if (input[i + 1] === LF) {
        lineContentEnd = o;
        i += 1;
        continue;
      }
      const high = hexValue(input[i + 1]);
      const low = hexValue(input[i + 2]);
      if (high >= 0 && low >= 0) {
        out[o++] = (high << 4) | low;
        lineContentEnd = o;
        i += 2;
        continue;
      }
      // `=` followed only by WSP up to the line break is a soft break with padding (rule 3).
      let j = i + 1;
      while (input[j] === SP || input[j] === HT) j++;
      if (input[j] === LF || (input[j] === CR && input[j + 1] === LF) || j === input.length) {
        lineContentEnd = o;
        i = input[j] === CR ? j + 1 : j;
        continue;
      }
      out[o++] = byte;
      lineContentEnd = o;
    } else if (byte === LF || (byte === CR && input[i + 1] === LF)) {
      o = lineContentEnd;
      if (byte === CR) {
        out[o++] = CR;
        i++;
      }
      out[o++] = LF;
      lineContentEnd = o;
    } else {
      out[o++] = byte;
      if (byte !== SP && byte !== HT) {
        lineContentEnd = o;
      }
    }
  }
  return out.subarray(0, lineContentEnd);
}

/** RFC 2045 6.8 base64; characters outside the alphabet (line breaks, junk) are ignored, as 6.8 requires. */
export function decodeBase64(input: Buffer): Buffer {
  return Buffer.from(input.toString('latin1'), 'base64');
}

/** Decodes a body by its (lower-cased) transfer encoding; identity for 7bit, 8bit, binary and unknown ones. */
export function decodeTransferEncoding(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

/**
 * Bytes to text by a MIME charset name (RFC 2046 4.1.2). Uses the WHATWG label table (Node with full ICU),
 * so `us-ascii` and `iso-8859-1` read as windows-1252, a superset. An unknown charset falls back to UTF-8
 * with replacement characters rather than failing the whole report.
 */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const label = (charset ?? '').trim() || 'utf-8';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
