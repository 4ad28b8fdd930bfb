/**
 * Why a message could not be unwrapped as a journal copy. Values are stable API names: the journal ingest
 * maps them to an SMTP 5xx reply text or records them with the message stored as unparseable.
 */
export const JournalParseReason = {
  /** No header section at all (zero bytes, or only line breaks). */
  EmptyMessage: 'EMPTY_MESSAGE',
  /** Neither an `X-MS-Journal-Report` header (Microsoft 365) nor `X-Gm-Original-To` (Google Workspace). */
  NotJournal: 'NOT_JOURNAL',
  /** A Microsoft 365 journal report whose top-level Content-Type is not multipart/*. */
  NotMultipart: 'NOT_MULTIPART',
  /** multipart/* without a usable `boundary` parameter (RFC 2046 5.1.1 makes it mandatory). */
  BoundaryMissing: 'BOUNDARY_MISSING',
  /** The boundary named in Content-Type never opens a body part. */
  MalformedBoundary: 'MALFORMED_BOUNDARY',
  /** No text/plain part carrying the journal report fields. */
  ReportPartMissing: 'REPORT_PART_MISSING',
  /** The report part has no `Sender:` line, so the envelope sender is unknown. */
  SenderMissing: 'SENDER_MISSING',
  /** No message/rfc822 part holding the original message. */
  OriginalPartMissing: 'ORIGINAL_PART_MISSING',
  /** The message/rfc822 part is empty. */
  OriginalEmpty: 'ORIGINAL_EMPTY',
  /** No recipient address in the report (or in `X-Gm-Original-To`). */
  NoRecipients: 'NO_RECIPIENTS',
} as const;

export type JournalParseReason = (typeof JournalParseReason)[keyof typeof JournalParseReason];

export const JOURNAL_PARSE_REASONS: readonly JournalParseReason[] = Object.values(JournalParseReason);

/** Short, operator-readable text per reason; safe to put in an SMTP reply (ASCII, no input echoed). */
export const JOURNAL_PARSE_REASON_TEXT: Readonly<Record<JournalParseReason, string>> = {
  EMPTY_MESSAGE: 'message has no header section',
  NOT_JOURNAL: 'not a Microsoft 365 journal report or Google Workspace journal copy',
  NOT_MULTIPART: 'journal report is not multipart',
  BOUNDARY_MISSING: 'journal report has no multipart boundary',
  MALFORMED_BOUNDARY: 'journal report boundary does not delimit any body part',
  REPORT_PART_MISSING: 'journal report has no text/plain report part',
  SENDER_MISSING: 'journal report has no Sender field',
  ORIGINAL_PART_MISSING: 'journal report has no message/rfc822 part',
  ORIGINAL_EMPTY: 'journal report message/rfc822 part is empty',
  NO_RECIPIENTS: 'journal copy names no recipient',
};

/** Bad input, never a bug: anything else thrown by this lib is a defect (the fuzz tests hold it to that). */
export class JournalParseError extends Error {
  constructor(
    readonly reason: JournalParseReason,
    detail?: string,
  ) {
    super(detail ? `${JOURNAL_PARSE_REASON_TEXT[reason]}: ${detail}` : JOURNAL_PARSE_REASON_TEXT[reason]);
    this.name = 'JournalParseError';
  }
}
