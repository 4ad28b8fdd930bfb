/** RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in unstructured header text such as Subject. */

import { decodeBase64, decodeCharset } from './transfer-encoding';

/*
 * Bounded, non-nested character classes: each match attempt scans at most to the next '?' or whitespace,
 * so the regex stays linear even on a megabyte-long header (no catastrophic backtracking).
 * RFC 2231 5 allows a language suffix in the charset (`utf-8*en`), dropped here.
 */
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;

/** RFC 2047 4.2: `_` is a space and `=XX` a byte in the Q encoding. */
function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '_') {
      bytes.push(0x20);
    } else if (ch === '=' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/**
 * Decodes every encoded-word in `text`. RFC 2047 6.2: whitespace between two adjacent encoded-words is
 * dropped, so a word split across several encoded-words (as long UTF-8 subjects are) reads back whole;
 * adjacent words in the same charset are joined as bytes first so a multi-byte character split between
 * them survives. Malformed words stay as written.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) {
    return text;
  }
  let out = '';
  let last = 0;
  // Bytes of consecutive encoded-words in one charset, decoded together.
  let run: { charset: string; chunks: Buffer[] } | undefined;
  const flushRun = () => {
    if (run) {
      out += decodeCharset(Buffer.concat(run.chunks), run.charset);
      run = undefined;
    }
  };
  for (const match of text.matchAll(ENCODED_WORD)) {
    const between = text.slice(last, match.index);
    const adjacent = run !== undefined && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flushRun();
      out += between;
    }
    const charset = match[1].toLowerCase();
    const bytes = match[2].toLowerCase() === 'b' ? decodeBase64(Buffer.from(match[3], 'latin1')) : decodeQ(match[3]);
    if (run && run.charset !== charset) {
      flushRun();
    }
    run ??= { charset, chunks: [] };
    run.chunks.push(bytes);
    last = match.index + match[0].length;
  }
  flushRun();
  return out + text.slice(last);
}
