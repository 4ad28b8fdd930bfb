import { loadFixture } from '../test/load-fixture';
import { parseGoogleJournalCopy } from './google-journal-copy.parser';
import { JournalParseError, JournalParseReason } from './journal-parse-error';

const copy = (headers: string) => Buffer.from(`${headers}\r\nSubject: hi\r\n\r\nbody\r\n`, 'latin1');

describe(parseGoogleJournalCopy.name, () => {
  it('should read recipient, sender, Message-ID and dedup keys from a real copy', () => {
    const raw = loadFixture('google-copy.eml');
    const result = parseGoogleJournalCopy(raw);
    expect(result).toEqual({
      kind: 'google',
      sender: 'alice@contoso.com',
      senderSource: 'return-path',
      recipients: ['Kate.Jones@example.org'],
      envelopeRecipients: ['kate.jones@example.org'],
      messageId: '<CAF=k3x9Qp2Z+4vL8mNwRtYb7cD1eF0gH2iJ3kL4mN5oP6qR7s@mail.gmail.com>',
      dedupKeys: ['<CAF=k3x9Qp2Z+4vL8mNwRtYb7cD1eF0gH2iJ3kL4mN5oP6qR7s@mail.gmail.com>|kate.jones@example.org'],
      original: raw,
    });
    expect(result.original).toBe(raw);
  });

  it('should give the same dedup key to two copies of one message for one recipient', () => {
    const first = parseGoogleJournalCopy(copy('X-Gm-Original-To: Kate@Example.org\r\nMessage-ID: <m1@x>'));
    const second = parseGoogleJournalCopy(copy('X-Gm-Original-To: kate@example.org\r\nReceived: retry\r\nMessage-ID:  <m1@x> '));
    const other = parseGoogleJournalCopy(copy('X-Gm-Original-To: leo@example.org\r\nMessage-ID: <m1@x>'));
    expect(first.dedupKeys).toEqual(second.dedupKeys);
    expect(other.dedupKeys).not.toEqual(first.dedupKeys);
  });

  it('should read several recipients from one field and drop duplicates', () => {
    const result = parseGoogleJournalCopy(copy('X-Gm-Original-To: a@x.com, Bee <b@x.com>, a@x.com\r\nMessage-ID: <m@x>'));
    expect(result.recipients).toEqual(['a@x.com', 'b@x.com']);
    expect(result.dedupKeys).toEqual(['<m@x>|a@x.com', '<m@x>|b@x.com']);
  });

  it('should use only the topmost X-Gm-Original-To', () => {
    const result = parseGoogleJournalCopy(copy('X-Gm-Original-To: new@x.com\r\nReceived: hop\r\nX-Gm-Original-To: old@y.com'));
    expect(result.recipients).toEqual(['new@x.com']);
  });

  it('should prefer the envelope sender, then Return-Path, then From', () => {
    const raw = copy('X-Gm-Original-To: a@x.com\r\nReturn-Path: <bounce@s.com>\r\nFrom: Sender <from@s.com>');
    expect(parseGoogleJournalCopy(raw, undefined, { envelopeSender: 'env@s.com' })).toMatchObject({ sender: 'env@s.com', senderSource: 'envelope' });
    expect(parseGoogleJournalCopy(raw)).toMatchObject({ sender: 'bounce@s.com', senderSource: 'return-path' });
    expect(parseGoogleJournalCopy(copy('X-Gm-Original-To: a@x.com\r\nFrom: Sender <from@s.com>'))).toMatchObject({
      sender: 'from@s.com',
      senderSource: 'from',
    });
    expect(parseGoogleJournalCopy(copy('X-Gm-Original-To: a@x.com'))).toMatchObject({ sender: '', senderSource: 'none' });
  });

  it('should keep a null envelope sender as the empty string', () => {
    expect(parseGoogleJournalCopy(copy('X-Gm-Original-To: a@x.com'), undefined, { envelopeSender: '' }).sender).toBe('');
  });

  it('should give no dedup keys without a Message-ID', () => {
    const result = parseGoogleJournalCopy(copy('X-Gm-Original-To: a@x.com'));
    expect(result.messageId).toBeNull();
    expect(result.dedupKeys).toEqual([]);
  });

  it('should refuse a copy whose X-Gm-Original-To holds no address', () => {
    for (const value of ['', ' undisclosed-recipients:;', ' not an address']) {
      expect(() => parseGoogleJournalCopy(copy(`X-Gm-Original-To:${value}`))).toThrow(
        expect.objectContaining({ reason: JournalParseReason.NoRecipients }) as JournalParseError,
      );
    }
  });
});
