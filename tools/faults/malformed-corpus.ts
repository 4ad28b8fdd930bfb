/**
 * Malformed messages for the bad-input fault tests (tools/faults/bad-input.int-spec.ts), generated in code so the
 * corpus needs no binary fixtures and every case says what the product must answer. Each message carries a unique
 * Message-ID (`<corpus-<name>@fault.example>`) on its first line, so a stored copy can be found whatever else in it
 * is broken. Sizes assume the tests' SMTP_MAX_MESSAGE_SIZE of {@link CORPUS_SIZE_LIMIT}.
 */

/** The SMTP_MAX_MESSAGE_SIZE the fault tests run both apps with (256 KiB). */
export const CORPUS_SIZE_LIMIT = 256 * 1024;

/**
 * The DATA reply a case must get: `accepted` is 250 (stored, then scanned); `too-big` is 552 5.3.4 (RFC 1870 /
 * RFC 3463 5.3.4); `not-journal` is 554 5.6.0 (the journal wrapper cannot be unwrapped: RFC 3463 5.6.0, a media
 * error that retrying cannot fix).
 */
export type CorpusOutcome = 'accepted' | 'too-big' | 'not-journal';

export interface CorpusCase {
  name: string;
  /** What is wrong with it, for the summary and the README. */
  fault: string;
  /** The message as the gateway receives it, and as the original inside a journal report. */
  message: Buffer;
  gateway: CorpusOutcome;
  journal: CorpusOutcome;
  /**
   * The body holds {@link DATA_CONTROL_KEYWORD} where a MIME parser that follows the structure finds it: the tests'
   * Data Control rule then decides QUARANTINE (proof that the malformed structure was read, not skipped).
   */
  keyword?: boolean;
}

/** The word the fault tests' Data Control rule quarantines on. */
export const DATA_CONTROL_KEYWORD = 'faultword';

/** A journal delivery whose wrapper itself is damaged (only the journal ingest reads wrappers). */
export interface WrapperCase {
  name: string;
  fault: string;
  /** Builds the damaged delivery from a well-formed Microsoft 365 report. */
  damage: (report: Buffer) => Buffer;
  journal: CorpusOutcome;
}

export const corpusMessageId = (name: string): string => `<corpus-${name}@fault.example>`;

const CRLF = '\r\n';

/** The header lines every case starts with, then the caller's own header lines (`extra`). */
function head(name: string, extra: string[] = [], from = 'Alice <alice@sender.example>'): string {
  return [`Message-ID: ${corpusMessageId(name)}`, `From: ${from}`, 'To: bob@to.example', 'Date: Wed, 25 Nov 2026 10:00:00 +0000', ...extra].join(CRLF) + CRLF;
}

function text(name: string, headerLines: string[], body: string): Buffer {
  return Buffer.from(`${head(name, headerLines)}${CRLF}${body}`, 'latin1');
}

/** A deterministic byte stream (xorshift32), so a failing case reproduces byte for byte. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}

/** `depth` multipart/mixed levels, each opening the next; the innermost holds a text part. No level is closed twice. */
function nestedMultipart(name: string, depth: number): Buffer {
  const boundary = (level: number) => `n${level}`;
  let body = `--${boundary(depth - 1)}${CRLF}Content-Type: text/plain${CRLF}${CRLF}deepest part ${DATA_CONTROL_KEYWORD}${CRLF}--${boundary(depth - 1)}--${CRLF}`;
  for (let level = depth - 2; level >= 0; level--) {
    body = `--${boundary(level)}${CRLF}Content-Type: multipart/mixed; boundary="${boundary(level + 1)}"${CRLF}${CRLF}${body}--${boundary(level)}--${CRLF}`;
  }
  return text(name, ['Subject: nested', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary(0)}"`], body);
}

function manyHeaders(name: string, count: number): Buffer {
  const lines = Array.from({ length: count }, (_, index) => `X-Filler-${index}: value ${index}`);
  return text(name, ['Subject: many headers', ...lines], `body after 5000 header fields ${DATA_CONTROL_KEYWORD}\r\n`);
}

/** The body lines of a ~`bytes` long plain-text message (76 octets a line). */
function filler(bytes: number): string {
  return `${'x'.repeat(76)}${CRLF}`.repeat(Math.ceil(bytes / 78));
}

export const MALFORMED_CORPUS: readonly CorpusCase[] = [
  {
    name: 'boundary-mismatch',
    fault: 'multipart boundary declared as "b1", parts delimited by "--b2", no close delimiter',
    message: text('boundary-mismatch', ['Subject: boundary mismatch', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'], `--b2${CRLF}Content-Type: text/plain${CRLF}${CRLF}part one${CRLF}--b2${CRLF}Content-Type: text/html${CRLF}${CRLF}<p>two</p>${CRLF}`),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'boundary-missing',
    fault: 'multipart/mixed without a boundary parameter (RFC 2046 5.1.1 makes it mandatory)',
    message: text('boundary-missing', ['Subject: boundary missing', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed'], `--x${CRLF}Content-Type: text/plain${CRLF}${CRLF}orphan part${CRLF}--x--${CRLF}`),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'multipart-truncated',
    fault: 'multipart cut off inside a base64 attachment: no close delimiter, last line half written',
    message: text(
      'multipart-truncated',
      ['Subject: truncated', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="t"'],
      `--t${CRLF}Content-Type: text/plain${CRLF}${CRLF}see attachment ${DATA_CONTROL_KEYWORD}${CRLF}--t${CRLF}Content-Type: application/pdf; name="a.pdf"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5n`,
    ),
    gateway: 'accepted',
    journal: 'accepted',
    keyword: true,
  },
  { name: 'nested-200', fault: '200 levels of nested multipart/mixed', message: nestedMultipart('nested-200', 200), gateway: 'accepted', journal: 'accepted', keyword: true },
  {
    name: 'nested-300',
    fault: '300 levels of nested multipart/mixed (deeper than the content parser follows)',
    message: nestedMultipart('nested-300', 300),
    gateway: 'accepted',
    journal: 'accepted',
    keyword: true,
  },
  {
    name: 'header-line-100k',
    fault: 'one 100 KB header line, unfolded (RFC 5322 2.1.1 limit is 998 octets)',
    message: text('header-line-100k', ['Subject: long header line', `X-Long: ${'a'.repeat(100 * 1024)}`], 'short body\r\n'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  { name: 'headers-5000', fault: '5,000 header fields', message: manyHeaders('headers-5000', 5000), gateway: 'accepted', journal: 'accepted', keyword: true },
  {
    name: 'base64-invalid',
    fault: 'Content-Transfer-Encoding base64 with characters outside the alphabet and a length not a multiple of 4',
    message: text('base64-invalid', ['Subject: bad base64', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], 'SGVsbG8g!!!d29y*bGQ=x\r\n====\r\n@@@\r\n'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'qp-invalid',
    fault: 'quoted-printable with =ZZ, =4 at the end of a line and a lone = at the end',
    message: text('qp-invalid', ['Subject: bad qp', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable'], 'caf=E9 =ZZ =4\r\nline =\r\n=\r\n='),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'charset-invalid',
    fault: 'unknown charset label on a part, and bytes that are not UTF-8 in a part labelled utf-8',
    message: Buffer.concat([
      Buffer.from(`${head('charset-invalid', ['Subject: bad charset', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="c"'])}${CRLF}--c${CRLF}Content-Type: text/plain; charset=x-klingon${CRLF}${CRLF}qapla'${CRLF}--c${CRLF}Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}`, 'latin1'),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe]),
      Buffer.from(`${CRLF}--c--${CRLF}`, 'latin1'),
    ]),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'encoded-word-invalid',
    fault: 'RFC 2047 encoded words with an unknown charset, bad base64 and an unterminated word',
    message: text('encoded-word-invalid', ['Subject: =?x-unknown?Q?caf=E9?= =?utf-8?B?!!!?= =?utf-8?Q?open'], 'body\r\n'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'header-utf8',
    fault: 'raw UTF-8 in Subject and the From display name (RFC 6532) without SMTPUTF8',
    message: Buffer.concat([Buffer.from(head('header-utf8', []), 'latin1'), Buffer.from('Subject: Überweisung – 請求書 ✓\r\nX-Sender-Name: Zoë Ðorđević\r\n\r\nbody\r\n', 'utf8')]),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'header-latin1',
    fault: 'raw 8-bit Latin-1 (not UTF-8) in Subject and From',
    message: Buffer.concat([Buffer.from(head('header-latin1', []), 'latin1'), Buffer.from('Subject: Caf\xe9 cr\xe8me \xe0 la \xfc\r\nX-Name: J\xfcrgen\r\n\r\nbody\r\n', 'latin1')]),
    gateway: 'accepted',
    journal: 'accepted',
  },
  { name: 'body-empty', fault: 'a header section and the empty line, then 0 bytes of body', message: text('body-empty', ['Subject: empty body'], ''), gateway: 'accepted', journal: 'accepted' },
  {
    name: 'headers-only',
    fault: 'header fields and no empty line, no body at all',
    message: Buffer.from(head('headers-only', ['Subject: headers only']), 'latin1'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'nul-bytes',
    fault: 'NUL bytes in the Subject, the From display name, another header and the body',
    message: Buffer.from(`${head('nul-bytes', ['Subject: nul\u0000in\u0000subject =?utf-8?Q?encoded=00nul?=', 'X-Nul: a\u0000b'], '"Al\u0000ice" <alice@sender.example>')}${CRLF}body with \u0000 a NUL\r\n\u0000\u0000\u0000\r\n`, 'latin1'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'binary-body',
    fault: '16 KB of random bytes as the body (any octet, CR and LF anywhere)',
    message: Buffer.concat([Buffer.from(`${head('binary-body', ['Subject: binary body'])}${CRLF}`, 'latin1'), pseudoRandomBytes(16 * 1024)]),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'bare-lf',
    fault: 'every line ends in a bare LF',
    message: Buffer.from(`${head('bare-lf', ['Subject: bare lf'])}${CRLF}line one\r\nline two\r\n`.replace(/\r\n/g, '\n'), 'latin1'),
    gateway: 'accepted',
    journal: 'accepted',
  },
  {
    name: 'over-size-limit',
    fault: `a ~${(CORPUS_SIZE_LIMIT * 1.25) / 1024} KB message, over the SIZE limit`,
    message: text('over-size-limit', ['Subject: too big'], filler(CORPUS_SIZE_LIMIT * 1.25)),
    gateway: 'too-big',
    journal: 'too-big',
  },
];

/** Cuts `report` at the first occurrence of `marker` (exclusive). */
function cutAt(report: Buffer, marker: string): Buffer {
  const at = report.indexOf(marker);
  if (at < 0) {
    throw new Error(`wrapper damage: "${marker}" not found in the report`);
  }
  return report.subarray(0, at);
}

/** `report` with `pattern` replaced; a damage that finds nothing to damage fails loudly instead of sending a good report. */
function replaceIn(report: Buffer, pattern: RegExp, replacement: string): Buffer {
  const text = report.toString('latin1');
  if (!pattern.test(text)) {
    throw new Error(`wrapper damage: ${pattern} not found in the report`);
  }
  return Buffer.from(text.replace(pattern, replacement), 'latin1');
}

export const DAMAGED_WRAPPERS: readonly WrapperCase[] = [
  {
    name: 'wrapper-boundary-mismatch',
    fault: 'the report declares one boundary and delimits its parts with another',
    damage: (report) => replaceIn(report, /boundary="([^"]+)"/, 'boundary="not-$1"'),
    journal: 'not-journal',
  },
  {
    name: 'wrapper-truncated',
    fault: 'the report cut off before its message/rfc822 part',
    damage: (report) => cutAt(report, 'Content-Type: message/rfc822'),
    journal: 'not-journal',
  },
  {
    name: 'wrapper-not-multipart',
    fault: 'the report with Content-Type text/plain instead of multipart/mixed',
    // The header may be folded before its boundary parameter (the journal builder folds it, as Exchange does).
    damage: (report) => replaceIn(report, /Content-Type: multipart\/mixed;\s*boundary="[^"]+"/, 'Content-Type: text/plain'),
    journal: 'not-journal',
  },
  { name: 'wrapper-empty', fault: 'a 0-byte DATA', damage: () => Buffer.alloc(0), journal: 'not-journal' },
  {
    name: 'wrapper-nul-flood',
    fault: '8 KB of NUL bytes instead of a report',
    damage: () => Buffer.alloc(8 * 1024),
    journal: 'not-journal',
  },
];
