import { decodeHeaderText, getHeader, parseHeaderBlock } from './header-block';

describe(parseHeaderBlock.name, () => {
  it('should unfold continuation lines by removing only the line breaks', () => {
    const block = parseHeaderBlock(Buffer.from('Subject: one\r\n two\r\n\tthree\r\nTo: a@b\r\n\r\nbody'));
    expect(getHeader(block, 'subject')).toBe(' one two\tthree');
    expect(getHeader(block, 'TO')).toBe(' a@b');
  });

  it('should report the body offset after the empty line', () => {
    const raw = Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\r\n');
    const block = parseHeaderBlock(raw);
    expect(block.hasSeparator).toBe(true);
    expect(raw.subarray(block.bodyOffset).toString()).toBe('body\r\n');
  });

  it('should accept bare LF line ends', () => {
    const raw = Buffer.from('A: 1\nB: 2\n continued\n\nbody');
    const block = parseHeaderBlock(raw);
    expect(getHeader(block, 'b')).toBe(' 2 continued');
    expect(raw.subarray(block.bodyOffset).toString()).toBe('body');
  });

  it('should stop at a line that is not a header field', () => {
    const raw = Buffer.from('A: 1\r\nthis is body text\r\nB: 2\r\n');
    const block = parseHeaderBlock(raw);
    expect(block.fields.map((field) => field.key)).toEqual(['a']);
    expect(block.hasSeparator).toBe(false);
    expect(raw.subarray(block.bodyOffset).toString()).toBe('this is body text\r\nB: 2\r\n');
  });

  it('should keep the first of repeated fields first', () => {
    const block = parseHeaderBlock(Buffer.from('Received: top\r\nReceived: bottom\r\n\r\n'));
    expect(getHeader(block, 'received')).toBe(' top');
    expect(block.fields).toHaveLength(2);
  });

  it('should accept whitespace before the colon (RFC 5322 obsolete syntax)', () => {
    expect(getHeader(parseHeaderBlock(Buffer.from('Subject  : hi\r\n\r\n')), 'subject')).toBe(' hi');
  });

  it('should give no fields for empty input', () => {
    expect(parseHeaderBlock(Buffer.alloc(0)).fields).toEqual([]);
    expect(parseHeaderBlock(Buffer.from('\r\n\r\n')).fields).toEqual([]);
  });

  it('should read only the given range', () => {
    const raw = Buffer.from('X: outside\r\n\r\nA: inside\r\n\r\nrest');
    const block = parseHeaderBlock(raw, 14);
    expect(block.fields.map((field) => field.name)).toEqual(['A']);
  });

  it('should not read past the end of the range', () => {
    const block = parseHeaderBlock(Buffer.from('A: 12345\r\nB: 2\r\n\r\n'), 0, 6);
    expect(block.fields).toEqual([{ name: 'A', key: 'a', value: ' 123' }]);
    expect(block.bodyOffset).toBe(6);
  });

  it('should read a 1 MB header line', () => {
    const value = 'x'.repeat(1024 * 1024);
    const block = parseHeaderBlock(Buffer.from(`Subject: ${value}\r\n\r\n`));
    expect(getHeader(block, 'subject')).toHaveLength(value.length + 1);
  });

  it('should not treat a 1 MB whitespace run before a colon as a field name', () => {
    const block = parseHeaderBlock(Buffer.from(`A: 1\r\nB${' '.repeat(1024 * 1024)}x: 2\r\n\r\n`));
    expect(block.fields.map((field) => field.key)).toEqual(['a']);
  });
});

describe(decodeHeaderText.name, () => {
  it('should read raw UTF-8 (RFC 6532)', () => {
    expect(decodeHeaderText(Buffer.from('Grüße', 'utf8').toString('latin1'))).toBe('Grüße');
  });

  it('should fall back to Latin-1 for bytes that are not UTF-8', () => {
    expect(decodeHeaderText(Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65]).toString('latin1'))).toBe('Grüße');
  });
});
