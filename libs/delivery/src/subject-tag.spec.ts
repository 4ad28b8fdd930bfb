import { decodeEncodedWords, summarizeMessageHeaders } from '@mailwarden/journal';
import { encodeWords, tagSubject } from './subject-tag';

const message = (subjectLine: string | null) =>
  Buffer.from([`From: a@example.com`, ...(subjectLine === null ? [] : [subjectLine]), 'To: b@example.org', '', 'body', ''].join('\r\n'));

describe(tagSubject.name, () => {
  it('should put an ASCII tag before a plain subject and keep the body', () => {
    const tagged = tagSubject(message('Subject: Hello'), '[SUSPICIOUS]');
    expect(summarizeMessageHeaders(tagged).subject).toBe('[SUSPICIOUS] Hello');
    expect(tagged.toString()).toMatch(/\r\n\r\nbody\r\n$/);
  });

  it('should keep an encoded-word subject decodable with exactly one space after the tag', () => {
    const subject = `Subject: =?UTF-8?B?${Buffer.from('Grüße aus Köln').toString('base64')}?=`;
    expect(summarizeMessageHeaders(tagSubject(message(subject), '[SUSPICIOUS]')).subject).toBe('[SUSPICIOUS] Grüße aus Köln');
    // RFC 2047 6.2 drops whitespace between adjacent encoded-words: the space must sit inside the tag's word.
    expect(summarizeMessageHeaders(tagSubject(message(subject), '[VERDÄCHTIG]')).subject).toBe('[VERDÄCHTIG] Grüße aus Köln');
  });

  it('should encode a non-ASCII tag before a plain subject', () => {
    const tagged = tagSubject(message('Subject: Invoice'), '[VERDÄCHTIG]');
    expect(tagged.toString('latin1')).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    expect(summarizeMessageHeaders(tagged).subject).toBe('[VERDÄCHTIG] Invoice');
  });

  it('should not tag a subject twice', () => {
    const once = tagSubject(message('Subject: Hello'), '[SUSPICIOUS]');
    expect(tagSubject(once, '[SUSPICIOUS]').equals(once)).toBe(true);
  });

  it('should add a Subject when there is none and keep folded subjects intact', () => {
    expect(summarizeMessageHeaders(tagSubject(message(null), '[SUSPICIOUS]')).subject).toBe('[SUSPICIOUS]');
    const folded = tagSubject(message('Subject: a long\r\n folded subject'), '[SUSPICIOUS]');
    expect(summarizeMessageHeaders(folded).subject).toBe('[SUSPICIOUS] a long folded subject');
  });
});

describe(encodeWords.name, () => {
  it('should keep each encoded-word within 75 characters without splitting a character', () => {
    const text = '€'.repeat(40);
    const encoded = encodeWords(text);
    for (const word of encoded.split('\r\n ')) {
      expect(word.length).toBeLessThanOrEqual(75);
    }
    expect(decodeEncodedWords(encoded.replace(/\r\n /g, ' '))).toBe(text);
  });
});
