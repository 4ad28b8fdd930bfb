import { decodeEncodedWords } from '@mailwarden/journal';
import { fieldName, foldHeader, joinHeaderSection, splitHeaderSection } from './header-section';

// RFC 2047 2: an encoded-word is at most 75 characters; `=?UTF-8?B?` + `?=` leave 63 for base64 (45 bytes).
const MAX_ENCODED_BYTES = 45;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The text as RFC 2047 B-encoded UTF-8 words separated by folding whitespace, split on character boundaries so
 * no multi-byte character straddles two words (RFC 2047 5.3).
 */
export function encodeWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > MAX_ENCODED_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) {
    words.push(chunk);
  }
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/**
 * Puts `tag` before the Subject of a raw message (the TAG_SUBJECT action), keeping the original value as
 * written (its encoded-words, its 8-bit bytes). A tag that is not printable ASCII is sent as an encoded-word;
 * when the original value starts with an encoded-word, the separating space goes inside the tag's word, since
 * RFC 2047 6.2 drops whitespace between adjacent encoded-words. A subject that already carries the tag is left
 * alone (a released or re-queued copy is not tagged twice); a message without Subject gets one.
 */
export function tagSubject(raw: Buffer, tag: string): Buffer {
  const trimmed = tag.trim().replace(/[\r\n]/g, ' ');
  if (!trimmed) {
    return raw;
  }
  const section = splitHeaderSection(raw);
  const index = section.fields.findIndex((field) => fieldName(field) === 'subject');
  const original = index < 0 ? '' : section.fields[index]!.slice(section.fields[index]!.indexOf(':') + 1).replace(/\r\n$/, '');
  const value = original.replace(/^[ \t]+/, '');
  const decoded = decodeEncodedWords(value.replace(/\r\n(?=[ \t])/g, '')).trim();
  if (decoded.startsWith(trimmed)) {
    return raw;
  }
  const ascii = PRINTABLE_ASCII.test(trimmed);
  let tagged: string;
  if (value === '') {
    tagged = ascii ? trimmed : encodeWords(trimmed);
  } else if (ascii) {
    tagged = `${trimmed} ${value}`;
  } else if (value.startsWith('=?')) {
    tagged = `${encodeWords(`${trimmed} `)} ${value}`;
  } else {
    tagged = `${encodeWords(trimmed)} ${value}`;
  }
  const field = `${foldHeader(`Subject: ${tagged}`)}\r\n`;
  if (index < 0) {
    section.fields.push(field);
  } else {
    section.fields[index] = field;
  }
  return joinHeaderSection(section);
}
