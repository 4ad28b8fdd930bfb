/**
 * Builds Microsoft 365 journal reports and Google copies the way the services write them, for the
 * property tests: what the builder puts in, the parser must read back.
 */
import type { JournalRecipientType } from '../src/journal.types';

export interface BuiltRecipient {
  address: string;
  type: JournalRecipientType;
  expandedFrom?: string;
  forwardedFrom?: string;
}

export type ReportEncoding = '7bit' | 'base64' | 'quoted-printable';

export interface MicrosoftReportSpec {
  sender: string;
  subject: string;
  messageId: string;
  onBehalfOf?: string;
  recipients: BuiltRecipient[];
  original: Buffer;
  boundary?: string;
  reportEncoding?: ReportEncoding;
  originalEncoding?: '7bit' | 'base64' | 'quoted-printable';
  /** Write field names in this case style (Exchange versions differ). */
  fieldCase?: 'canonical' | 'upper' | 'lower';
  /** Fold report lines longer than this at a space (continuation line starts with a space). */
  foldAt?: number;
  /** Report part text to use instead of the lines built from the fields (for fuzzing). */
  rawReportText?: string;
}

const FIELD_NAMES: Record<JournalRecipientType, string> = { to: 'To', cc: 'Cc', bcc: 'Bcc', recipient: 'Recipient' };

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
  for (const recipient of spec.recipients) {
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

export function buildMicrosoftJournalReport(spec: MicrosoftReportSpec): Buffer {
  const boundary = spec.boundary ?? '_4d3c2b1a-0f9e-4d8c-b7a6-958473625140_';
  const reportEncoding = spec.reportEncoding ?? '7bit';
  const originalEncoding = spec.originalEncoding ?? '7bit';
  const head = [
    'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>',
    'To: <journal-7f3c2a9d@journal.mailwarden.example>',
    'Subject: journal report',
    'Message-ID: <0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6@journal.report.generator>',
    `Content-Type: multipart/mixed;\r\n\tboundary="${boundary}"`,
    'MIME-Version: 1.0',
    'X-MS-Journal-Report:',
    '',
    '',
  ].join('\r\n');
  const reportPart =
    `--${boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ${reportEncoding === '7bit' ? '8bit' : reportEncoding}\r\n\r\n` +
    encode(Buffer.from(spec.rawReportText ?? reportText(spec), 'utf8'), reportEncoding) +
    '\r\n';
  const originalHead =
    `--${boundary}\r\nContent-Type: message/rfc822\r\n` +
    (originalEncoding === '7bit' ? '' : `Content-Transfer-Encoding: ${originalEncoding}\r\n`) +
    '\r\n';
  const originalBody = originalEncoding === '7bit' ? spec.original : Buffer.from(encode(spec.original, originalEncoding), 'latin1');
  return Buffer.concat([
    Buffer.from(head + reportPart + originalHead, 'latin1'),
    originalBody,
    Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'),
  ]);
}

export function buildGoogleCopy(originalTo: string, message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`X-Gm-Original-To: ${originalTo}\r\n`, 'latin1'), message]);
}
