export { JOURNAL_PARSE_REASONS, JOURNAL_PARSE_REASON_TEXT, JournalParseError, JournalParseReason } from './journal-parse-error';
export type {
  GoogleJournalCopy,
  GoogleSenderSource,
  JournalRecipient,
  JournalRecipientType,
  JournalUnwrapResult,
  MicrosoftJournalReport,
  UnrecognizedJournalMessage,
  UnwrapJournalOptions,
} from './journal.types';
export { unwrapJournalMessage } from './unwrap-journal-message';
export {
  MICROSOFT_JOURNAL_REPORT_HEADER,
  isMicrosoftJournalReport,
  parseJournalReportText,
  parseMicrosoftJournalReport,
  type JournalReportFields,
} from './microsoft-journal-report.parser';
export { GOOGLE_ORIGINAL_TO_HEADER, isGoogleJournalCopy, parseGoogleJournalCopy } from './google-journal-copy.parser';
export { dedupKeysFor } from './dedup-keys';
export {
  extractHeaderFrom,
  extractMessageId,
  extractSubject,
  normalizeMessageId,
  summarizeHeaderBlock,
  summarizeMessageHeaders,
  type MessageHeaderSummary,
} from './message-headers';
export { findBareLineEnds, hasBareCrOrLf, normalizeLineEnds, type BareLineEnd } from './line-ends';
export { parseHeaderBlock, type HeaderBlock, type HeaderField } from './mime/header-block';
export { decodeEncodedWords } from './mime/encoded-words';
export * from './origin-hop';
