/**
 * Edits of a message's header section (RFC 5322 2.2) on the raw bytes: the body is never touched, and header
 * bytes are handled as latin1 so 8-bit values (RFC 6532) survive byte for byte. Expects CRLF line ends
 * (normalise first: libs/journal normalizeLineEnds).
 */

export interface HeaderSection {
  /** Every field, each with its folded continuation lines and its final CRLF. */
  fields: string[];
  /** Everything from the empty line that ends the header section (CRLF CRLF's second CRLF) on. */
  rest: Buffer;
}

export function splitHeaderSection(raw: Buffer): HeaderSection {
  const end = raw.indexOf('\r\n\r\n');
  const headerEnd = end < 0 ? raw.length : end + 2;
  const text = raw.subarray(0, headerEnd).toString('latin1');
  const fields: string[] = [];
  for (const line of text.split(/(?<=\r\n)/)) {
    if (line === '') {
      continue;
    }
    // RFC 5322 2.2.3: a line starting with WSP continues the previous field.
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      fields[fields.length - 1] += line;
    } else {
      fields.push(line);
    }
  }
  return { fields, rest: raw.subarray(headerEnd) };
}

export function joinHeaderSection(section: HeaderSection): Buffer {
  return Buffer.concat([Buffer.from(section.fields.join(''), 'latin1'), section.rest]);
}

export function fieldName(field: string): string {
  const colon = field.indexOf(':');
  return (colon < 0 ? field : field.slice(0, colon)).trim().toLowerCase();
}

/** The unfolded value of a field (RFC 5322 2.2.3), as latin1 text. */
export function fieldValue(field: string): string {
  const colon = field.indexOf(':');
  return field.slice(colon + 1).replace(/\r\n(?=[ \t])/g, '').replace(/\r\n$/, '').trim();
}

/** Values of every field named `name` (case-insensitive), in order. */
export function headerValues(raw: Buffer, name: string): string[] {
  const lower = name.toLowerCase();
  return splitHeaderSection(raw).fields.filter((field) => fieldName(field) === lower).map(fieldValue);
}

/** Puts `lines` (each `Name: value`, without CRLF) on top of the header section, first line first. */
export function prependHeaders(raw: Buffer, lines: readonly string[]): Buffer {
  if (lines.length === 0) {
    return raw;
  }
  return Buffer.concat([Buffer.from(lines.map((line) => `${line}\r\n`).join(''), 'latin1'), raw]);
}

/** Drops every field for which `drop(name, value)` is true. */
export function removeHeaders(raw: Buffer, drop: (name: string, value: string) => boolean): Buffer {
  const section = splitHeaderSection(raw);
  const kept = section.fields.filter((field) => !drop(fieldName(field), fieldValue(field)));
  return kept.length === section.fields.length ? raw : joinHeaderSection({ fields: kept, rest: section.rest });
}

/**
 * Folds a header line at whitespace so no line exceeds 78 characters where possible (RFC 5322 2.1.1), keeping
 * the text unchanged once unfolded.
 */
export function foldHeader(line: string, limit = 78): string {
  const firstBreak = line.indexOf('\r\n');
  if (firstBreak >= 0) {
    // Already folded further on: fold only the first line, keep the sender's folding.
    return foldHeader(line.slice(0, firstBreak), limit) + line.slice(firstBreak);
  }
  if (line.length <= limit) {
    return line;
  }
  const words = line.split(/(?= )/);
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    if (current.length > 0 && current.length + word.length > limit) {
      out.push(current);
      current = word;
    } else {
      current += word;
    }
  }
  out.push(current);
  return out.join('\r\n');
}
