/**
 * Microsoft 365 (Exchange Online) envelope journal reports. The journaling agent sends a multipart/mixed
 * message marked with an `X-MS-Journal-Report` header: a text/plain part whose lines carry the envelope
 * (`Sender:`, `Subject:`, `Message-ID:`, `On-Behalf-Of:`, one `To:`/`Cc:`/`Bcc:`/`Recipient:` line per
 * recipient, optionally `, Expanded: <list>` or `, Forwarded: <address>`), then the original message as
 * a message/rfc822 part. The report, not the original's headers, is the envelope: it alone names Bcc
 * recipients and distribution-list members.
 */

import { dedupKeysFor, uniqueLowerCase } from './dedup-keys';
import { JournalParseError, JournalParseReason } from './journal-parse-error';
import type { JournalRecipient, JournalRecipientType, MicrosoftJournalReport } from './journal.types';
import { normalizeMessageId } from './message-headers';
import { isAddress, mailboxAddress, splitTopLevel } from './mime/address-list';
import { parseContentType, parseTransferEncoding } from './mime/content-type';
import { getHeader, hasHeader, parseHeaderBlock, type HeaderBlock } from './mime/header-block';
import { splitMultipart, type BodyPart } from './mime/multipart';
import { decodeCharset, decodeTransferEncoding } from './mime/transfer-encoding';

export const MICROSOFT_JOURNAL_REPORT_HEADER = 'X-MS-Journal-Report';

/** The journal report fields read from the text/plain part. */
export interface JournalReportFields {
  sender?: string;
  subject?: string;
  messageId?: string;
  onBehalfOf?: string;
  recipients: JournalRecipient[];
}

const RECIPIENT_FIELDS: Readonly<Record<string, JournalRecipientType>> = {
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  recipient: 'recipient',
};

export function isMicrosoftJournalReport(headers: HeaderBlock): boolean {
  return hasHeader(headers, MICROSOFT_JOURNAL_REPORT_HEADER);
}

/** Report lines, unfolded: a line starting with SP or HT continues the one before (RFC 5322 2.2.3 style). */
function unfoldLines(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 0) {
      lines[lines.length - 1] += line;
    } else {
      lines.push(line);
    }
  }
  return lines;
}

/** `a@x, Expanded: list@x` → recipients; a bare second address on one line is its own recipient. */
function parseRecipientLine(value: string, type: JournalRecipientType, into: JournalRecipient[]): void {
  let current: JournalRecipient | undefined;
  for (const segment of splitTopLevel(value)) {
    const qualifier = /^\s*(expanded|forwarded)\s*:/i.exec(segment);
    if (qualifier) {
      const address = mailboxAddress(segment.slice(qualifier[0].length));
      if (current && isAddress(address)) {
        if (qualifier[1].toLowerCase() === 'expanded') {
          current.expandedFrom ??= address;
        } else {
          current.forwardedFrom ??= address;
        }
      }
      continue;
    }
    const address = mailboxAddress(segment);
    if (isAddress(address)) {
      current = { address, type };
      into.push(current);
    } else {
      current = undefined;
    }
  }
}

/**
 * Reads the report text. Field names are case-insensitive; the first Sender/Subject/Message-ID/
 * On-Behalf-Of wins; unknown lines are ignored (Exchange has added fields over time). The Subject is
 * taken literally: the report is a text body, RFC 2047 applies to header fields only.
 */
export function parseJournalReportText(text: string): JournalReportFields {
  const fields: JournalReportFields = { recipients: [] };
  for (const line of unfoldLines(text)) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1);
    const recipientType = Object.hasOwn(RECIPIENT_FIELDS, name) ? RECIPIENT_FIELDS[name] : undefined;
    if (recipientType) {
      parseRecipientLine(value, recipientType, fields.recipients);
    } else if (name === 'sender') {
      fields.sender ??= mailboxAddress(value);
    } else if (name === 'subject') {
      fields.subject ??= value.trim();
    } else if (name === 'message-id') {
      fields.messageId ??= value.trim();
    } else if (name === 'on-behalf-of') {
      const address = mailboxAddress(value);
      if (address) {
        fields.onBehalfOf ??= address;
      }
    }
  }
  return fields;
}

function partContentType(part: BodyPart): string {
  return parseContentType(getHeader(part.headers, 'content-type')).mediaType;
}

/** Decodes a body part's content per its Content-Transfer-Encoding (RFC 2045 6). */
function decodedBody(raw: Buffer, part: BodyPart): Buffer {
  const body = raw.subarray(part.bodyStart, part.end);
  return decodeTransferEncoding(body, parseTransferEncoding(getHeader(part.headers, 'content-transfer-encoding')));
}

/**
 * Unwraps a Microsoft 365 journal report. Throws JournalParseError (never anything else) when the
 * structure is not a usable report.
 */
export function parseMicrosoftJournalReport(raw: Buffer, headers: HeaderBlock = parseHeaderBlock(raw)): MicrosoftJournalReport {
  const contentType = parseContentType(getHeader(headers, 'content-type'));
  if (!contentType.mediaType.startsWith('multipart/')) {
    throw new JournalParseError(JournalParseReason.NotMultipart, contentType.mediaType);
  }
  const boundary = contentType.params['boundary'];
  // RFC 2046 5.1.1: 1 to 70 characters.
  if (!boundary || boundary.length > 70) {
    throw new JournalParseError(JournalParseReason.BoundaryMissing);
  }
  const { parts } = splitMultipart(raw, boundary, headers.bodyOffset);
  if (parts.length === 0) {
    throw new JournalParseError(JournalParseReason.MalformedBoundary, 'no body part opens with the declared boundary');
  }

  const reportPart = parts.find((part) => partContentType(part) === 'text/plain');
  if (!reportPart) {
    throw new JournalParseError(JournalParseReason.ReportPartMissing);
  }
  const originalPart = parts.find((part) => partContentType(part) === 'message/rfc822');
  if (!originalPart) {
    throw new JournalParseError(JournalParseReason.OriginalPartMissing);
  }

  const charset = parseContentType(getHeader(reportPart.headers, 'content-type')).params['charset'];
  const report = parseJournalReportText(decodeCharset(decodedBody(raw, reportPart), charset));
  if (report.sender === undefined) {
    throw new JournalParseError(JournalParseReason.SenderMissing);
  }
  if (report.recipients.length === 0) {
    throw new JournalParseError(JournalParseReason.NoRecipients);
  }
  // M365 may base64-encode the rfc822 part although RFC 2046 5.2.1 allows only 7bit/8bit/binary there.
  const original = decodedBody(raw, originalPart);
  if (original.length === 0) {
    throw new JournalParseError(JournalParseReason.OriginalEmpty);
  }

  const envelopeRecipients = uniqueLowerCase(report.recipients.map((recipient) => recipient.address));
  const messageId = normalizeMessageId(report.messageId);
  return {
    kind: 'microsoft',
    sender: report.sender,
    ...(report.onBehalfOf ? { onBehalfOf: report.onBehalfOf } : {}),
    subject: report.subject ?? '',
    messageId,
    recipients: report.recipients,
    envelopeRecipients,
    dedupKeys: dedupKeysFor(messageId, envelopeRecipients),
    original,
  };
}
