import { findBareLineEnds, hasBareCrOrLf, normalizeLineEnds } from './line-ends';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe(findBareLineEnds.name, () => {
  it('should find nothing in CRLF-only mail', () => {
    expect(findBareLineEnds(bytes('A: 1\r\n\r\nbody\r\n.\r\n'))).toEqual([]);
  });

  it('should find bare LF and bare CR with their offsets', () => {
    expect(findBareLineEnds(bytes('a\nb\rc\r\nd\r'))).toEqual([
      { offset: 1, kind: 'LF' },
      { offset: 3, kind: 'CR' },
      { offset: 8, kind: 'CR' },
    ]);
  });

  it('should see the smuggling sequences <LF>.<CR><LF> and <CR>.<CR>', () => {
    expect(findBareLineEnds(bytes('x\n.\r\nMAIL FROM:<a@b>')).map((end) => end.kind)).toEqual(['LF']);
    expect(findBareLineEnds(bytes('x\r.\rMAIL FROM:<a@b>')).map((end) => end.kind)).toEqual(['CR', 'CR']);
  });

  it('should treat CR CR LF as a bare CR followed by CRLF', () => {
    expect(findBareLineEnds(bytes('a\r\r\nb'))).toEqual([{ offset: 1, kind: 'CR' }]);
  });

  it('should stop at the limit', () => {
    expect(findBareLineEnds(bytes('\n\n\n\n'), 2)).toHaveLength(2);
  });
});

describe(hasBareCrOrLf.name, () => {
  it('should tell clean from dirty input', () => {
    expect(hasBareCrOrLf(bytes('a\r\nb\r\n'))).toBe(false);
    expect(hasBareCrOrLf(bytes('a\r\nb\n'))).toBe(true);
    expect(hasBareCrOrLf(bytes('a\rb'))).toBe(true);
    expect(hasBareCrOrLf(Buffer.alloc(0))).toBe(false);
  });
});

describe(normalizeLineEnds.name, () => {
  it('should turn every bare CR and LF into CRLF', () => {
    expect(normalizeLineEnds(bytes('a\nb\rc\r\nd\r\r\ne\n')).toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n\r\ne\r\n');
  });

  it('should return the same Buffer when nothing needs changing', () => {
    const raw = bytes('a\r\nb');
    expect(normalizeLineEnds(raw)).toBe(raw);
  });

  it('should leave no bare line end behind, whatever the input', () => {
    const raw = Buffer.from(Array.from({ length: 4096 }, (_, i) => [0x0d, 0x0a, 0x41][(i * 7919) % 3]));
    const normalized = normalizeLineEnds(raw);
    expect(hasBareCrOrLf(normalized)).toBe(false);
    // Only line ends were added: removing all CR and LF gives the same text.
    const strip = (buffer: Buffer) => buffer.toString('latin1').replace(/[\r\n]/g, '');
    expect(strip(normalized)).toBe(strip(raw));
  });
});
