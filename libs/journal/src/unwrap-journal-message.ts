import { parseGoogleJournalCopy, isGoogleJournalCopy } from './google-journal-copy.parser';
import { JournalParseError, JournalParseReason } from './journal-parse-error';
import type { JournalUnwrapResult, UnwrapJournalOptions } from './journal.types';
import { isMicrosoftJournalReport, parseMicrosoftJournalReport } from './microsoft-journal-report.parser';
import { parseHeaderBlock } from './mime/header-block';

/**
 * Recognises and unwraps a journal delivery (DESIGN.md 3): a Microsoft 365 envelope journal report
 * (`X-MS-Journal-Report`), else a Google Workspace copy (`X-Gm-Original-To`), else `unrecognized` with a
 * reason the caller turns into a 5xx or an "unparseable" record. Bad input never throws; only a defect in
 * this lib could (the fuzz tests check that). Pure: no I/O, linear in the size of `raw`.
 */
export function unwrapJournalMessage(raw: Buffer, opts: UnwrapJournalOptions = {}): JournalUnwrapResult {
  try {
    const headers = parseHeaderBlock(raw);
    if (headers.fields.length === 0) {
      throw new JournalParseError(JournalParseReason.EmptyMessage);
    }
    if (isMicrosoftJournalReport(headers)) {
      return parseMicrosoftJournalReport(raw, headers);
    }
    if (isGoogleJournalCopy(headers)) {
      return parseGoogleJournalCopy(raw, headers, opts);
    }
    throw new JournalParseError(JournalParseReason.NotJournal);
  } catch (error) {
    if (error instanceof JournalParseError) {
      return { kind: 'unrecognized', reason: error.reason, detail: error.message };
    }
    throw error;
  }
}
