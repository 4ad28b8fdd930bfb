import { decodeBase64, decodeCharset, decodeQuotedPrintable, decodeTransferEncoding } from './transfer-encoding';

const qp = (text: string) => decodeQuotedPrintable(Buffer.from(text, 'latin1')).toString('latin1');

describe(decodeQuotedPrintable.name, () => {
  it('should decode =XX escapes in either case', () => {
    expect(qp('Caf=E9 =e9')).toBe('Café é');
  });

  it('should remove soft line breaks with CRLF or bare LF', () => {
    expect(qp('long=\r\nword and=\nmore')).toBe('longword andmore');
  });

  it('should treat = followed by padding and a line break as a soft break', () => {
    expect(qp('a= \t\r\nb')).toBe('ab');
  });

  it('should drop trailing whitespace added in transport (RFC 2045 6.7 rule 3)', () => {
    expect(qp('line  \r\nnext\t')).toBe('line\r\nnext');
  });

  it('should keep encoded trailing whitespace', () => {
    expect(qp('line=20\r\n')).toBe('line \r\n');
  });

  it('should keep a malformed = literally', () => {
    expect(qp('a=ZZb =')).toBe('a=ZZb ');
    expect(qp('100=')).toBe('100');
    expect(qp('x=4')).toBe('x=4');
  });
});

describe(decodeBase64.name, () => {
  it('should ignore line breaks and characters outside the alphabet', () => {
    expect(decodeBase64(Buffer.from('aGVs\r\nbG8g*d29y\nbGQ=')).toString()).toBe('hello world');
  });
});

describe(decodeTransferEncoding.name, () => {
  it('should leave 7bit, 8bit, binary and unknown encodings alone', () => {
    const body = Buffer.from('=E9 aGVsbG8=');
    for (const encoding of ['7bit', '8bit', 'binary', 'x-uuencode']) {
      expect(decodeTransferEncoding(body, encoding)).toBe(body);
    }
  });
});

describe(decodeCharset.name, () => {
  it('should decode by charset label', () => {
    expect(decodeCharset(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96]), 'windows-1252')).toBe('Café –');
    expect(decodeCharset(Buffer.from('✓', 'utf8'), 'UTF-8')).toBe('✓');
    expect(decodeCharset(Buffer.from([0xe9]), 'iso-8859-1')).toBe('é');
  });

  it('should fall back to UTF-8 for an unknown charset', () => {
    expect(decodeCharset(Buffer.from('ü', 'utf8'), 'x-no-such-charset')).toBe('ü');
    expect(decodeCharset(Buffer.from('ü', 'utf8'), undefined)).toBe('ü');
  });
});
