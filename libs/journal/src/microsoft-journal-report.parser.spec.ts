import { buildMicrosoftJournalReport } from '@mailwarden/testing';
import { loadFixture } from '../test/load-fixture';
import { JournalParseError, JournalParseReason } from './journal-parse-error';
import { parseJournalReportText, parseMicrosoftJournalReport } from './microsoft-journal-report.parser';

function reasonOf(raw: Buffer): string {
  try {
    parseMicrosoftJournalReport(raw);
  } catch (error) {
    if (error instanceof JournalParseError) {
      return error.reason;
    }
    throw error;
  }
  throw new Error('parsed without error');
}

describe(parseMicrosoftJournalReport.name, () => {
  it('should read sender, subject, Message-ID and every recipient type with distribution list members', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-journal-report.eml'));
    expect(report).toMatchObject({
      kind: 'microsoft',
      sender: 'alice@contoso.com',
      subject: 'Q3 results – draft',
      messageId: '<AM0PR02MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR02MB5678.eurprd02.prod.outlook.com>',
    });
    expect(report.onBehalfOf).toBeUndefined();
    expect(report.recipients).toEqual([
      { address: 'bob@contoso.com', type: 'to' },
      { address: 'carol@fabrikam.com', type: 'to' },
      { address: 'dave@contoso.com', type: 'cc' },
      { address: 'eve@contoso.com', type: 'bcc' },
      { address: 'frank@contoso.com', type: 'to', expandedFrom: 'finance@contoso.com' },
      { address: 'grace@contoso.com', type: 'to', expandedFrom: 'finance@contoso.com' },
    ]);
  });

  it('should use the report, Bcc included, as the envelope and not the list address', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-journal-report.eml'));
    expect(report.envelopeRecipients).toEqual([
      'bob@contoso.com',
      'carol@fabrikam.com',
      'dave@contoso.com',
      'eve@contoso.com',
      'frank@contoso.com',
      'grace@contoso.com',
    ]);
    expect(report.envelopeRecipients).not.toContain('finance@contoso.com');
  });

  it('should extract the embedded original byte for byte', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-journal-report.eml'));
    expect(report.original.equals(loadFixture('original-quarterly.eml'))).toBe(true);
  });

  it('should read mixed-case field names, Forwarded, On-Behalf-Of and folded lines', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-forwarded-mixed-case.eml'));
    expect(report.sender).toBe('heidi@contoso.com');
    expect(report.onBehalfOf).toBe('ceo@contoso.com');
    expect(report.subject).toBe('Board pack for Thursday');
    expect(report.messageId).toBe('<DB9PR02MB7654C0FFEE@DB9PR02MB7654.eurprd02.prod.outlook.com>');
    expect(report.recipients).toEqual([
      { address: 'ivan@contoso.com', type: 'to' },
      { address: 'judy@fabrikam.com', type: 'recipient', forwardedFrom: 'ivan@contoso.com' },
      { address: 'mallory@contoso.com', type: 'bcc', expandedFrom: 'board-members-and-observers-distribution-list@contoso.com' },
    ]);
    expect(report.original.equals(loadFixture('original-forwarded.eml'))).toBe(true);
  });

  it('should decode a base64 report part by its charset', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-base64-report.eml'));
    expect(report.subject).toBe('Überweisung – Q3 ✓');
    expect(report.envelopeRecipients).toEqual(['bob@contoso.com', 'dave@contoso.com', 'eve@contoso.com']);
    expect(report.original.equals(loadFixture('original-quarterly.eml'))).toBe(true);
  });

  it('should decode a quoted-printable windows-1252 report and a base64 rfc822 part', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-qp-report-base64-original.eml'));
    expect(report.subject).toBe('Café budget – final');
    expect(report.recipients).toEqual([
      { address: 'bob@contoso.com', type: 'to', expandedFrom: 'a-distribution-list-whose-name-is-long-enough-to-force-a-soft-line-break@contoso.com' },
      { address: 'carol@fabrikam.com', type: 'recipient' },
    ]);
    expect(report.original.equals(loadFixture('original-quarterly.eml'))).toBe(true);
  });

  it('should give one dedup key per envelope recipient', () => {
    const report = parseMicrosoftJournalReport(loadFixture('m365-base64-report.eml'));
    expect(report.dedupKeys).toEqual([
      '<AM0PR02MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR02MB5678.eurprd02.prod.outlook.com>|bob@contoso.com',
      '<AM0PR02MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR02MB5678.eurprd02.prod.outlook.com>|dave@contoso.com',
      '<AM0PR02MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR02MB5678.eurprd02.prod.outlook.com>|eve@contoso.com',
    ]);
  });

  it('should keep a report whose original uses bare LF unaltered', () => {
    const original = Buffer.from('From: a@x.com\nSubject: lf only\n\nbody\n');
    const raw = buildMicrosoftJournalReport({ sender: 'a@x.com', subject: 'lf only', messageId: '<m@x>', recipients: [{ address: 'b@x.com', type: 'to' }], original });
    expect(parseMicrosoftJournalReport(raw).original.equals(original)).toBe(true);
  });

  it('should give the null sender as an empty string', () => {
    const raw = buildMicrosoftJournalReport({
      sender: '<>',
      subject: 'Undeliverable',
      messageId: '<ndr@x>',
      recipients: [{ address: 'b@x.com', type: 'to' }],
      original: Buffer.from('Subject: ndr\r\n\r\nx\r\n'),
    });
    expect(parseMicrosoftJournalReport(raw).sender).toBe('');
  });

  it('should give no dedup keys and a null messageId when the report has no Message-ID line', () => {
    const raw = loadFixture('m365-journal-report.eml');
    const text = raw.toString('latin1').replace(/^Message-Id: .*\r\n/m, '');
    const report = parseMicrosoftJournalReport(Buffer.from(text, 'latin1'));
    expect(report.messageId).toBeNull();
    expect(report.dedupKeys).toEqual([]);
  });

  describe('malformed reports', () => {
    it('should refuse a report without a text/plain part', () => {
      expect(reasonOf(loadFixture('m365-report-part-missing.eml'))).toBe(JournalParseReason.ReportPartMissing);
    });

    it('should refuse a report without a message/rfc822 part', () => {
      expect(reasonOf(loadFixture('m365-original-part-missing.eml'))).toBe(JournalParseReason.OriginalPartMissing);
    });

    it('should refuse a report whose boundary delimits nothing', () => {
      expect(reasonOf(loadFixture('m365-boundary-mismatch.eml'))).toBe(JournalParseReason.MalformedBoundary);
    });

    it('should refuse a report that names no recipient', () => {
      expect(reasonOf(loadFixture('m365-no-recipients.eml'))).toBe(JournalParseReason.NoRecipients);
    });

    it('should refuse a report that is not multipart', () => {
      expect(reasonOf(Buffer.from('X-MS-Journal-Report:\r\nContent-Type: text/plain\r\n\r\nSender: a@x.com\r\n'))).toBe(
        JournalParseReason.NotMultipart,
      );
    });

    it('should refuse multipart without a boundary parameter', () => {
      expect(reasonOf(Buffer.from('X-MS-Journal-Report:\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n'))).toBe(JournalParseReason.BoundaryMissing);
    });

    it('should refuse a boundary longer than RFC 2046 allows', () => {
      const boundary = 'b'.repeat(71);
      const raw = `X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary=${boundary}\r\n\r\n--${boundary}\r\n\r\nx\r\n--${boundary}--\r\n`;
      expect(reasonOf(Buffer.from(raw))).toBe(JournalParseReason.BoundaryMissing);
    });

    it('should refuse a report without a Sender line', () => {
      const text = loadFixture('m365-journal-report.eml').toString('latin1').replace(/^Sender: .*\r\n/m, '');
      expect(reasonOf(Buffer.from(text, 'latin1'))).toBe(JournalParseReason.SenderMissing);
    });

    it('should refuse an empty message/rfc822 part', () => {
      const text = loadFixture('m365-original-part-missing.eml')
        .toString('latin1')
        .replace(/--(_b0b0[^\r]*_)--\r\n$/, '--$1\r\nContent-Type: message/rfc822\r\n\r\n\r\n--$1--\r\n');
      expect(reasonOf(Buffer.from(text, 'latin1'))).toBe(JournalParseReason.OriginalEmpty);
    });
  });
});

describe(parseJournalReportText.name, () => {
  it('should read fields case-insensitively and ignore unknown lines', () => {
    expect(
      parseJournalReportText('sEnDeR: a@x.com\nX-Unknown: 1\nnot a field\nSUBJECT:  hi there \nCC: b@x.com\nbcc:c@x.com\n'),
    ).toEqual({
      sender: 'a@x.com',
      subject: 'hi there',
      recipients: [
        { address: 'b@x.com', type: 'cc' },
        { address: 'c@x.com', type: 'bcc' },
      ],
    });
  });

  it('should keep the first Sender and Subject when repeated', () => {
    const fields = parseJournalReportText('Sender: first@x.com\r\nSender: second@x.com\r\nSubject: one\r\nSubject: two\r\n');
    expect(fields.sender).toBe('first@x.com');
    expect(fields.subject).toBe('one');
  });

  it('should read several addresses on one line as several recipients', () => {
    expect(parseJournalReportText('To: a@x.com, b@x.com, Expanded: list@x.com\n').recipients).toEqual([
      { address: 'a@x.com', type: 'to' },
      { address: 'b@x.com', type: 'to', expandedFrom: 'list@x.com' },
    ]);
  });

  it('should read both qualifiers on one line and angle-bracketed addresses', () => {
    expect(parseJournalReportText('To: <c@x.com>, Forwarded: <b@x.com>, Expanded: "List" <l@x.com>\n').recipients).toEqual([
      { address: 'c@x.com', type: 'to', forwardedFrom: 'b@x.com', expandedFrom: 'l@x.com' },
    ]);
  });

  it('should join continuation lines of a folded recipient line', () => {
    expect(parseJournalReportText('Recipient: a@x.com,\r\n\tForwarded:\r\n b@x.com\r\n').recipients).toEqual([
      { address: 'a@x.com', type: 'recipient', forwardedFrom: 'b@x.com' },
    ]);
  });

  it('should skip entries that are not addresses, and a qualifier with nothing to qualify', () => {
    expect(parseJournalReportText('To: Expanded: l@x.com\nTo: /o=ExchangeLabs/ou=Exchange\nTo: ,\n').recipients).toEqual([]);
  });

  it('should not take a field named like an Object prototype member as a recipient type', () => {
    expect(parseJournalReportText('constructor: a@x.com\n__proto__: b@x.com\n').recipients).toEqual([]);
  });
});
