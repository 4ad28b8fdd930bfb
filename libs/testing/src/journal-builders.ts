/**
 * Builders for journal copies as Microsoft 365 and Google Workspace send them: the one home of these builders, used
 * by the journal parser's unit and property tests (what the builder puts in, the parser must read back) and by the
 * ingest, scanner and fault tests that send journal copies over SMTP.
 */

export interface JournalOriginal {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  messageId: string;
  body?: string;
  /** Received fields, newest first (e.g. the provider's edge hop that names the sending client). */
  received?: string[];
  extraHeaders?: string[];
}

export function buildOriginal(original: JournalOriginal): Buffer {
  return Buffer.from(
    [
      ...(original.received ?? []).map((value) => `Received: ${value}`),
      `From: ${original.from}`,
      `To: ${original.to.join(', ')}`,
      ...(original.cc?.length ? [`Cc: ${original.cc.join(', ')}`] : []),
      `Subject: ${original.subject}`,
      `Message-ID: ${original.messageId}`,
      'Date: Wed, 25 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      ...(original.extraHeaders ?? []),
      '',
      original.body ?? 'Hello, this is the original message.',
      '',
    ].join('\r\n'),
  );
}

/** One recipient line of the report part (the type is the field name: To, Cc, Bcc, Recipient). */
export interface BuiltRecipient {
  address: string;
  type: 'to' | 'cc' | 'bcc' | 'recipient';
  expandedFrom?: string;
  forwardedFrom?: string;
}

export type ReportEncoding = '7bit' | 'base64' | 'quoted-printable';

export interface MicrosoftReportSpec {
  sender: string;
  subject: string;
  messageId: string;
  onBehalfOf?: string;
  /** Recipient lines, in order; `to`, `cc`, `bcc` and `expanded` below are shorthands appended after them. */
  recipients?: BuiltRecipient[];
  to?: string[];
  cc?: string[];
  bcc?: string[];
  /** Members a distribution list was expanded to: `To: member, Expanded: list`. */
  expanded?: { list: string; members: string[] };
  original: Buffer;
  /** To of the report itself (the journal address); a fixed address by default. */
  journalAddress?: string;
  /** Multipart boundary; a fresh one per report by default. */
  boundary?: string;
  reportEncoding?: ReportEncoding;
  originalEncoding?: ReportEncoding;
  /** Write field names in this case style (Exchange versions differ). */
  fieldCase?: 'canonical' | 'upper' | 'lower';
  /** Fold report lines longer than this at a space (continuation line starts with a space). */
  foldAt?: number;
  /** Report part text to use instead of the lines built from the fields (for fuzzing). */
  rawReportText?: string;
}

function recipientsOf(spec: MicrosoftReportSpec): BuiltRecipient[] {
  return [
    ...(spec.recipients ?? []),
    ...(spec.to ?? []).map((address) => ({ address, type: 'to' as const })),
    ...(spec.cc ?? []).map((address) => ({ address, type: 'cc' as const })),
    ...(spec.bcc ?? []).map((address) => ({ address, type: 'bcc' as const })),
    ...(spec.expanded?.members ?? []).map((address) => ({ address, type: 'to' as const, expandedFrom: spec.expanded!.list })),
  ];
}

const FIELD_NAMES: Record<BuiltRecipient['type'], string> = { to: 'To', cc: 'Cc', bcc: 'Bcc', recipient: 'Recipient' };

function fieldName(name: string, style: MicrosoftReportSpec['fieldCase']): string {
  return style === 'upper' ? name.toUpperCase() : style === 'lower' ? name.toLowerCase() : name;
}

/** Folds at the last space before `width` (RFC 5322 2.2.3 style), never inside a word. */
function fold(line: string, width: number | undefined): string {
  if (!width) {
    return line;
  }
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    if (space <= 0) {
      break;
    }
    out.push(rest.slice(0, space));
    rest = rest.slice(space);
  }
  out.push(rest);
  return out.join('\r\n');
}

export function reportText(spec: MicrosoftReportSpec): string {
  const name = (value: string) => fieldName(value, spec.fieldCase);
  const lines = [`${name('Sender')}: ${spec.sender}`, `${name('Subject')}: ${spec.subject}`, `${name('Message-Id')}: ${spec.messageId}`];
  if (spec.onBehalfOf) {
    lines.push(`${name('On-Behalf-Of')}: ${spec.onBehalfOf}`);
  }
  for (const recipient of recipientsOf(spec)) {
    let line = `${name(FIELD_NAMES[recipient.type])}: ${recipient.address}`;
    if (recipient.expandedFrom) line += `, ${name('Expanded')}: ${recipient.expandedFrom}`;
    if (recipient.forwardedFrom) line += `, ${name('Forwarded')}: ${recipient.forwardedFrom}`;
    lines.push(line);
  }
  return lines.map((line) => fold(line, spec.foldAt)).join('\r\n') + '\r\n';
}

/** RFC 2045 6.7 encoder, enough for tests: every non-printable byte, '=' and trailing WSP as =XX. */
export function encodeQuotedPrintable(bytes: Buffer): string {
  let out = '';
  let lineLength = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x0d && bytes[i + 1] === 0x0a) {
      out += '\r\n';
      lineLength = 0;
      i++;
      continue;
    }
    const isWspBeforeBreak = (byte === 0x20 || byte === 0x09) && (i + 1 === bytes.length || bytes[i + 1] === 0x0d);
    const literal = byte >= 0x21 && byte <= 0x7e && byte !== 0x3d;
    const token = literal || ((byte === 0x20 || byte === 0x09) && !isWspBeforeBreak) ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (lineLength + token.length > 75) {
      out += '=\r\n';
      lineLength = 0;
    }
    out += token;
    lineLength += token.length;
  }
  return out;
}

function encode(bytes: Buffer, encoding: ReportEncoding): string {
  switch (encoding) {
    case 'base64':
      return bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
    case 'quoted-printable':
      return encodeQuotedPrintable(bytes);
    default:
      return bytes.toString('latin1');
  }
}

/**
 * An envelope journal report: X-MS-Journal-Report, a text/plain report part, the original as message/rfc822
 * (each part optionally base64 or quoted-printable encoded).
 */
export function buildMicrosoftJournalReport(spec: MicrosoftReportSpec): Buffer {
  const unique = Math.random().toString(36).slice(2);
  const boundary = spec.boundary ?? `----=_journal_${unique}`;
  const reportEncoding = spec.reportEncoding ?? '7bit';
  const originalEncoding = spec.originalEncoding ?? '7bit';
  const head = [
    'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@customer.onmicrosoft.com>',
    `To: ${spec.journalAddress ?? '<journal-7f3c2a9d@journal.mailwarden.example>'}`,
    // the report's own Subject repeats the original's (a fuzzed subject's line breaks would end the header early)
    `Subject: ${spec.subject.replace(/[\r\n]+/g, ' ')}`,
    'X-MS-Journal-Report:',
    `Message-ID: <journal-${unique}@customer.onmicrosoft.com>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed;\r\n\tboundary="${boundary}"`,
    '',
    '',
  ].join('\r\n');
  const reportPart =
    `--${boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ${reportEncoding === '7bit' ? '8bit' : reportEncoding}\r\n\r\n` +
    encode(Buffer.from(spec.rawReportText ?? reportText(spec), 'utf8'), reportEncoding) +
    '\r\n';
  const originalHead =
    `--${boundary}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n` +
    (originalEncoding === '7bit' ? '' : `Content-Transfer-Encoding: ${originalEncoding}\r\n`) +
    '\r\n';
  const originalBody = originalEncoding === '7bit' ? spec.original : Buffer.from(encode(spec.original, originalEncoding), 'latin1');
  return Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(reportPart + originalHead, 'latin1'), originalBody, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
}

/** A Google Workspace journal copy: the original with X-Gm-Original-To naming the recipient. */
export function buildGoogleJournalCopy(recipient: string, original: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`X-Gm-Original-To: ${recipient}\r\n`, 'latin1'), original]);
}
