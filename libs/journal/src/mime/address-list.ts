/**
 * RFC 5322 3.4 address lists, read by a single-pass scanner (quoted strings, nested comments, angle
 * addresses, groups). Only the addr-spec is kept: display names are not needed for the envelope and are
 * the part most often mangled. Tolerant of what real mail holds (obsolete routes, unquoted commas in
 * display names are not rescued).
 */

/** Splits `value` at commas outside quotes, comments and angle brackets. */
export function splitTopLevel(value: string, separator = ','): string[] {
  const parts: string[] = [];
  let start = 0;
  let depth = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && (quoted || depth > 0)) {
      i++;
    } else if (quoted) {
      quoted = ch !== '"';
    } else if (depth > 0) {
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === '(') {
      depth++;
    } else if (ch === '<') {
      angle = true;
    } else if (ch === '>') {
      angle = false;
    } else if (ch === separator && !angle) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/**
 * The addr-spec of one mailbox (`Name <a@b>`, `a@b (comment)`, `<>`): the angle-bracket content when
 * there is one, else the text with comments, quotes-as-delimiters and whitespace removed. Returns ''
 * for the null path `<>` and for text that holds nothing.
 */
export function mailboxAddress(mailbox: string): string {
  let bare = '';
  let angled: string | undefined;
  let inAngle = false;
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < mailbox.length; i++) {
    const ch = mailbox[i];
    if (depth > 0) {
      if (ch === '\\') i++;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      continue;
    }
    if (quoted) {
      if (ch === '\\' && i + 1 < mailbox.length) {
        i++;
        if (inAngle) angled += mailbox[i];
        else bare += mailbox[i];
      } else if (ch === '"') {
        quoted = false;
      } else if (inAngle) {
        angled += ch;
      } else {
        bare += ch;
      }
      continue;
    }
    if (ch === '(') {
      depth++;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === '<' && angled === undefined) {
      inAngle = true;
      angled = '';
    } else if (ch === '>' && inAngle) {
      inAngle = false;
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (!inAngle) bare += ' ';
    } else if (inAngle) {
      angled += ch;
    } else {
      bare += ch;
    }
  }
  if (angled !== undefined) {
    // RFC 5322 4.4 obs-route `<@relay:a@b>`: the addr-spec follows the last ':'.
    const route = angled.lastIndexOf(':');
    return (route >= 0 ? angled.slice(route + 1) : angled).trim();
  }
  // Without brackets the mailbox is a bare addr-spec; anything after whitespace is a stray display word.
  const words = bare.trim().split(' ');
  return words.find((word) => word.includes('@')) ?? words[words.length - 1] ?? '';
}

/**
 * Addresses in an address-list header value, in order, groups flattened (RFC 5322 3.4 `name: a, b;`).
 * Entries without an addr-spec (empty, `undisclosed-recipients:;`) are left out.
 */
export function parseAddressList(value: string): string[] {
  const addresses: string[] = [];
  // An unquoted comma in a display name (`Doe, John <j@x>`, or one inside an RFC 2047 word, which
  // RFC 2047 5(3) forbids but senders write) splits a mailbox in two; a piece without '@', '<', ':' or
  // ';' cannot be a mailbox or group on its own, so it is joined to the piece after it.
  const segments: string[] = [];
  let carry = '';
  for (const piece of splitTopLevel(value)) {
    const joined = carry ? `${carry},${piece}` : piece;
    carry = /[@<:;]/.test(piece) || !piece.trim() ? '' : joined;
    if (!carry) {
      segments.push(joined);
    }
  }
  if (carry) {
    segments.push(carry);
  }
  for (let segment of segments) {
    // A group display name ends at the first top-level ':' of the segment; the group closes at ';'.
    const colon = splitTopLevel(segment, ':');
    if (colon.length > 1 && !segment.trimStart().startsWith('<')) {
      segment = colon.slice(1).join(':');
    }
    segment = splitTopLevel(segment, ';')[0];
    const address = mailboxAddress(segment);
    if (address) {
      addresses.push(address);
    }
  }
  return addresses;
}

/**
 * True for something usable as an SMTP address: one '@' with text on both sides and no whitespace or
 * control characters. Deliberately loose: the journal source already delivered to it.
 */
export function isAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && at < address.length - 1 && !/[\s\x00-\x1f\x7f<>,;]/.test(address);
}
