import { loadFixture } from '../test/load-fixture';
import { extractHeaderFrom, extractMessageId, extractSubject, normalizeMessageId, summarizeMessageHeaders } from './message-headers';

const raw = (text: string) => Buffer.from(text, 'latin1');

describe(summarizeMessageHeaders.name, () => {
  it('should read From, decoded Subject and Message-ID from a real message', () => {
    expect(summarizeMessageHeaders(loadFixture('google-copy.eml'))).toEqual({
      from: 'alice@contoso.com',
      subject: 'Re: Angebot über € 12.000 (vertraulich)',
      messageId: '<CAF=k3x9Qp2Z+4vL8mNwRtYb7cD1eF0gH2iJ3kL4mN5oP6qR7s@mail.gmail.com>',
    });
  });

  it('should give nulls when the fields are absent', () => {
    expect(summarizeMessageHeaders(raw('X-Other: 1\r\n\r\nFrom: body@x.com\r\n'))).toEqual({ from: null, subject: null, messageId: null });
  });

  it('should stop reading at the end of the header section', () => {
    expect(extractSubject(raw('From: a@x.com\r\n\r\nSubject: in the body\r\n'))).toBeNull();
  });
});

describe(extractHeaderFrom.name, () => {
  it('should read a folded From with a quoted display name', () => {
    expect(extractHeaderFrom(raw('From: "Doe, John"\r\n <John.Doe@Example.com>\r\n\r\n'))).toBe('John.Doe@Example.com');
  });

  it('should read an 8-bit UTF-8 display name (RFC 6532)', () => {
    expect(extractHeaderFrom(Buffer.from('From: Jürgen Müller <jm@x.de>\r\n\r\n', 'utf8'))).toBe('jm@x.de');
  });

  it('should take the first address of several', () => {
    expect(extractHeaderFrom(raw('From: a@x.com, b@x.com\r\n\r\n'))).toBe('a@x.com');
  });
});

describe(extractSubject.name, () => {
  it('should decode folded encoded-words and trim', () => {
    expect(extractSubject(raw('Subject: =?utf-8?B?w7xiZXI=?=\r\n =?utf-8?Q?_alles?=\r\n\r\n'))).toBe('über alles');
  });

  it('should read raw 8-bit Latin-1 and UTF-8 subjects', () => {
    expect(extractSubject(Buffer.from('Subject: Grüße\n\n', 'utf8'))).toBe('Grüße');
    expect(extractSubject(Buffer.from('Subject: Gr\xfc\xdfe\n\n', 'latin1'))).toBe('Grüße');
  });

  it('should give an empty string for an empty Subject', () => {
    expect(extractSubject(raw('Subject:\r\n\r\n'))).toBe('');
  });

  it('should handle a 1 MB subject line', () => {
    const subject = 'word '.repeat(210_000).trim();
    expect(extractSubject(raw(`Subject: ${subject}\r\n\r\n`))).toBe(subject);
  });
});

describe(extractMessageId.name, () => {
  it('should read a folded Message-ID', () => {
    expect(extractMessageId(raw('Message-ID:\r\n <abc@x.com>\r\n\r\n'))).toBe('<abc@x.com>');
  });
});

describe(normalizeMessageId.name, () => {
  it('should reduce a msg-id to its <id> form', () => {
    expect(normalizeMessageId(' <a@b> (comment)')).toBe('<a@b>');
    expect(normalizeMessageId('(c) a@b')).toBe('<a@b>');
    expect(normalizeMessageId('<a@b> <c@d>')).toBe('<a@b>');
    expect(normalizeMessageId('<unterminated@b')).toBe('<unterminated@b>');
  });

  it('should give null for nothing', () => {
    expect(normalizeMessageId(undefined)).toBeNull();
    expect(normalizeMessageId('  ')).toBeNull();
    expect(normalizeMessageId('<>')).toBeNull();
  });
});
