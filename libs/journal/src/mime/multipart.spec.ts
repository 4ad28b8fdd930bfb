import { splitMultipart } from './multipart';

const body = (text: string) => Buffer.from(text, 'latin1');
const slices = (raw: Buffer, boundary: string) =>
  splitMultipart(raw, boundary).parts.map((part) => raw.subarray(part.start, part.end).toString('latin1'));

describe(splitMultipart.name, () => {
  it('should return each part without the line break that belongs to the next delimiter', () => {
    const raw = body('preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue');
    expect(slices(raw, 'b')).toEqual(['A: 1\r\n\r\none', '\r\ntwo\r\n']);
    expect(splitMultipart(raw, 'b').closed).toBe(true);
  });

  it('should report the body start of each part', () => {
    const raw = body('--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--');
    const [part] = splitMultipart(raw, 'b').parts;
    expect(raw.subarray(part.bodyStart, part.end).toString()).toBe('hello');
  });

  it('should accept transport padding after a delimiter and bare LF line ends', () => {
    expect(slices(body('--b \t\nx\n--b--\n'), 'b')).toEqual(['x']);
  });

  it('should ignore the boundary string inside a line or as a prefix of a longer one', () => {
    const raw = body('--b\r\ntext --b here\r\n--bb\r\nmore\r\n--b--');
    expect(slices(raw, 'b')).toEqual(['text --b here\r\n--bb\r\nmore']);
  });

  it('should run the last part to the end when the close delimiter is missing', () => {
    const result = splitMultipart(body('--b\r\none\r\n--b\r\ntwo\r\n'), 'b');
    expect(result.closed).toBe(false);
    expect(result.parts).toHaveLength(2);
  });

  it('should find no parts when the boundary never opens one', () => {
    expect(splitMultipart(body('--other\r\nx\r\n--other--'), 'b').parts).toEqual([]);
  });

  it('should keep empty parts', () => {
    expect(slices(body('--b\r\n--b\r\nx\r\n--b--'), 'b')).toEqual(['', 'x']);
  });
});
