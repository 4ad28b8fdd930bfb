import { decodeEncodedWords } from './encoded-words';

describe(decodeEncodedWords.name, () => {
  it('should decode B and Q encoded-words', () => {
    expect(decodeEncodedWords('=?utf-8?B?w7xiZXI=?=')).toBe('über');
    expect(decodeEncodedWords('=?ISO-8859-1?Q?Caf=E9_au_lait?=')).toBe('Café au lait');
  });

  it('should drop whitespace between adjacent encoded-words (RFC 2047 6.2)', () => {
    expect(decodeEncodedWords('=?utf-8?Q?a?= \r\n =?utf-8?Q?b?=')).toBe('ab');
  });

  it('should keep whitespace between an encoded-word and plain text', () => {
    expect(decodeEncodedWords('Re: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= from Bonn')).toBe('Re: Grüße from Bonn');
  });

  it('should join a multi-byte character split across two encoded-words', () => {
    // "€" is E2 82 AC; the split falls inside it.
    expect(decodeEncodedWords('=?utf-8?Q?=E2=82?= =?utf-8?Q?=AC_5?=')).toBe('€ 5');
  });

  it('should ignore an RFC 2231 language suffix', () => {
    expect(decodeEncodedWords('=?utf-8*en?Q?hi?=')).toBe('hi');
  });

  it('should leave malformed encoded-words as written', () => {
    expect(decodeEncodedWords('=?utf-8?X?abc?= and =?utf-8?B?')).toBe('=?utf-8?X?abc?= and =?utf-8?B?');
  });

  it('should fall back to UTF-8 for an unknown charset', () => {
    expect(decodeEncodedWords('=?x-unknown?Q?ok?=')).toBe('ok');
  });

  it('should decode a 1 MB value made of near-miss encoded-word starts', () => {
    const text = '=?a'.repeat(350_000);
    expect(decodeEncodedWords(text)).toBe(text);
  });
});
