import { fileTypeFromName, sniffFileType } from './file-type-sniffer';

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'latin1')] : part)));

/** A minimal PE image: MZ header with e_lfanew (0x3C) pointing at a "PE\0\0" signature. */
function peImage(): Uint8Array {
  const image = new Uint8Array(0x100);
  image.set([0x4d, 0x5a]);
  new DataView(image.buffer).setUint32(0x3c, 0x80, true);
  image.set([0x50, 0x45, 0x00, 0x00], 0x80);
  return image;
}

describe(sniffFileType.name, () => {
  it.each([
    ['pdf', bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')],
    ['pdf', bytes('garbage before header\n%PDF-1.4\n')],
    ['zip', bytes([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00], 'readme.txt')],
    ['zip', bytes([0x50, 0x4b, 0x05, 0x06], new Array(18).fill(0))],
    ['ooxml', bytes([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00], '[Content_Types].xml')],
    ['ole2', bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0x00])],
    ['exe', peImage()],
    ['elf', bytes([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01])],
    ['macho', bytes([0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00])],
    ['rar', bytes('Rar!', [0x1a, 0x07, 0x00])],
    ['rar', bytes('Rar!', [0x1a, 0x07, 0x01, 0x00])],
    ['7z', bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04])],
    ['gzip', bytes([0x1f, 0x8b, 0x08, 0x00])],
    ['bzip2', bytes('BZh91AY&SY')],
    ['xz', bytes([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00])],
    ['cab', bytes('MSCF', [0, 0, 0, 0])],
  ])('should recognise %s by its magic bytes', (type, content) => {
    expect(sniffFileType(content)).toBe(type);
  });

  it('should recognise an ISO 9660 image by its volume descriptor at 0x8001', () => {
    const image = new Uint8Array(0x8010);
    image.set([0x01, ...Buffer.from('CD001')], 0x8000);
    expect(sniffFileType(image)).toBe('iso');
  });

  it('should recognise nothing in plain text, empty content or a truncated signature', () => {
    expect(sniffFileType(bytes('Hello, this is a text file.'))).toBeNull();
    expect(sniffFileType(new Uint8Array())).toBeNull();
    expect(sniffFileType(bytes([0xd0, 0xcf, 0x11]))).toBeNull();
    expect(sniffFileType(bytes('BZhx'))).toBeNull();
  });
});

describe(fileTypeFromName.name, () => {
  it.each([
    ['report.PDF', 'pdf'],
    ['budget.xlsx', 'ooxml'],
    ['legacy.doc', 'ole2'],
    ['setup.msi', 'ole2'],
    ['invoice.pdf.exe', 'exe'],
    ['invoice.exe. . ', 'exe'],
    ['run.ps1', 'script'],
    ['archive.tar.gz', 'gzip'],
    ['photo.jpeg', null],
    ['README', null],
    [null, null],
  ])('should map %j to %s', (name, type) => {
    expect(fileTypeFromName(name)).toBe(type);
  });
});
