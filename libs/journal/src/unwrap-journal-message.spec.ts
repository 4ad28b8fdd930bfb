import { buildMicrosoftJournalReport } from '@mailwarden/testing';
import { loadFixture } from '../test/load-fixture';
import { JOURNAL_PARSE_REASONS, JOURNAL_PARSE_REASON_TEXT, JournalParseReason } from './journal-parse-error';
import { unwrapJournalMessage } from './unwrap-journal-message';

describe(unwrapJournalMessage.name, () => {
  it('should unwrap a Microsoft 365 journal report', () => {
    const result = unwrapJournalMessage(loadFixture('m365-journal-report.eml'));
    expect(result.kind).toBe('microsoft');
  });

  it('should read a Google Workspace copy and pass the envelope sender through', () => {
    const result = unwrapJournalMessage(loadFixture('google-copy.eml'), { envelopeSender: 'alice@contoso.com' });
    expect(result).toMatchObject({ kind: 'google', sender: 'alice@contoso.com', senderSource: 'envelope' });
  });

  it('should prefer the Microsoft report when both markers are present', () => {
    const raw = Buffer.concat([Buffer.from('X-Gm-Original-To: x@y.com\r\n'), loadFixture('m365-journal-report.eml')]);
    expect(unwrapJournalMessage(raw).kind).toBe('microsoft');
  });

  it.each([
    ['not-journal.eml', JournalParseReason.NotJournal],
    ['m365-report-part-missing.eml', JournalParseReason.ReportPartMissing],
    ['m365-original-part-missing.eml', JournalParseReason.OriginalPartMissing],
    ['m365-boundary-mismatch.eml', JournalParseReason.MalformedBoundary],
    ['m365-no-recipients.eml', JournalParseReason.NoRecipients],
  ])('should report %s as unrecognized with reason %s', (fixture, reason) => {
    expect(unwrapJournalMessage(loadFixture(fixture))).toEqual({ kind: 'unrecognized', reason, detail: expect.any(String) });
  });

  it('should report an empty message', () => {
    expect(unwrapJournalMessage(Buffer.alloc(0))).toMatchObject({ kind: 'unrecognized', reason: JournalParseReason.EmptyMessage });
    expect(unwrapJournalMessage(Buffer.from('\r\n\r\nbody'))).toMatchObject({ reason: JournalParseReason.EmptyMessage });
  });

  it('should report a Google copy without recipients', () => {
    expect(unwrapJournalMessage(Buffer.from('X-Gm-Original-To:\r\n\r\n'))).toMatchObject({ reason: JournalParseReason.NoRecipients });
  });

  it('should have a distinct ASCII text for every reason', () => {
    const texts = JOURNAL_PARSE_REASONS.map((reason) => JOURNAL_PARSE_REASON_TEXT[reason]);
    expect(new Set(texts).size).toBe(JOURNAL_PARSE_REASONS.length);
    for (const text of texts) {
      expect(text).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  describe('huge input', () => {
    const MB = 1024 * 1024;

    it('should unwrap a report whose outer header holds a 1 MB line', () => {
      const raw = Buffer.concat([Buffer.from(`X-Padding: ${'a'.repeat(MB)}\r\n`), loadFixture('m365-journal-report.eml')]);
      expect(unwrapJournalMessage(raw).kind).toBe('microsoft');
    });

    it('should read a 1 MB recipient line of adversarial punctuation', () => {
      const original = Buffer.from('Subject: x\r\n\r\nbody\r\n');
      const raw = buildMicrosoftJournalReport({
        sender: 'a@x.com',
        subject: '=?'.repeat(MB / 2),
        messageId: '<'.repeat(MB),
        recipients: [
          { address: 'b@x.com', type: 'to' },
          { address: `c@x.com, ${'"('.repeat(MB / 2)}`, type: 'cc' },
        ],
        original,
      });
      const result = unwrapJournalMessage(raw);
      expect(result).toMatchObject({ kind: 'microsoft', envelopeRecipients: ['b@x.com', 'c@x.com'] });
    });

    it('should answer for a 1 MB header line without any line break', () => {
      expect(unwrapJournalMessage(Buffer.from(`X-MS-Journal-Report: ${'\t'.repeat(MB)}`))).toMatchObject({
        kind: 'unrecognized',
        reason: JournalParseReason.NotMultipart,
      });
    });

    it('should answer for a 1 MB Content-Type value of nested comments', () => {
      const raw = Buffer.from(`X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; ${'('.repeat(MB)}\r\n\r\n`);
      expect(unwrapJournalMessage(raw)).toMatchObject({ kind: 'unrecognized', reason: JournalParseReason.BoundaryMissing });
    });

    it('should answer for 1 MB of tiny body parts', () => {
      // Each part used to make the header reader search the rest of the buffer: quadratic, minutes long.
      const raw = Buffer.from('X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' + '--b\r\nx\r\n'.repeat(MB / 8) + ':');
      expect(unwrapJournalMessage(raw)).toMatchObject({ reason: JournalParseReason.OriginalPartMissing });
    });

    it('should answer for 1 MB of body lines that almost match the boundary', () => {
      const boundary = 'b'.repeat(60);
      const raw = Buffer.from(
        `X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary=${boundary}\r\n\r\n` + `--${boundary.slice(1)}x\r\n`.repeat(MB / 64),
      );
      expect(unwrapJournalMessage(raw)).toMatchObject({ reason: JournalParseReason.MalformedBoundary });
    });
  });
});
