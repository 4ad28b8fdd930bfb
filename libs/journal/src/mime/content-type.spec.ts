import { parseContentType, parseTransferEncoding } from './content-type';

describe(parseContentType.name, () => {
  it('should read type, subtype and quoted parameters', () => {
    const type = parseContentType(' Multipart/Mixed;\r\n\tboundary="_a;b=c_"; Charset=UTF-8');
    expect(type.mediaType).toBe('multipart/mixed');
    expect(type.params['boundary']).toBe('_a;b=c_');
    expect(type.params['charset']).toBe('UTF-8');
  });

  it('should read unquoted parameters and skip comments', () => {
    const type = parseContentType('text/plain (report) ; charset=us-ascii (plain)');
    expect(type.mediaType).toBe('text/plain');
    expect(type.params['charset']).toBe('us-ascii');
  });

  it('should keep the first of duplicated parameters', () => {
    expect(parseContentType('multipart/mixed; boundary=one; boundary=two').params['boundary']).toBe('one');
  });

  it('should give text/plain when the value is absent or unreadable (RFC 2045 5.2)', () => {
    expect(parseContentType(undefined).mediaType).toBe('text/plain');
    expect(parseContentType('garbage').mediaType).toBe('text/plain');
    expect(parseContentType('/plain').mediaType).toBe('text/plain');
  });

  it('should treat __proto__ as an ordinary parameter name', () => {
    const type = parseContentType('text/plain; __proto__=x; constructor=y');
    expect(type.params['__proto__']).toBe('x');
    expect(type.params['constructor']).toBe('y');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('should survive junk between parameters', () => {
    expect(parseContentType('multipart/mixed; ===; boundary=b').params['boundary']).toBe('b');
  });
});

describe(parseTransferEncoding.name, () => {
  it('should lower-case the mechanism and default to 7bit', () => {
    expect(parseTransferEncoding(' Base64 ')).toBe('base64');
    expect(parseTransferEncoding('quoted-printable (comment)')).toBe('quoted-printable');
    expect(parseTransferEncoding(undefined)).toBe('7bit');
    expect(parseTransferEncoding('  ')).toBe('7bit');
  });
});
