import type { AttachmentFileType } from './data-control.types';

/** Extensions (lower-case, no dot) per file type; `script` has no magic bytes, so it is known by name only. */
export const FILE_TYPE_EXTENSIONS: Readonly<Record<AttachmentFileType, readonly string[]>> = {
  pdf: ['pdf'],
  zip: ['zip', 'zipx', 'jar', 'apk'],
  ooxml: ['docx', 'docm', 'dotx', 'dotm', 'xlsx', 'xlsm', 'xltx', 'xltm', 'xlsb', 'pptx', 'pptm', 'potx', 'ppsx', 'ppsm', 'vsdx'],
  ole2: ['doc', 'dot', 'xls', 'xlt', 'ppt', 'pps', 'msi', 'msg', 'vsd', 'pub'],
  exe: ['exe', 'dll', 'scr', 'cpl', 'sys', 'ocx', 'com', 'efi', 'drv'],
  elf: ['elf', 'so', 'bin'],
  macho: ['dylib', 'macho'],
  rar: ['rar'],
  '7z': ['7z'],
  gzip: ['gz', 'tgz'],
  bzip2: ['bz2', 'tbz2'],
  xz: ['xz', 'txz'],
  cab: ['cab'],
  iso: ['iso', 'img'],
  script: ['js', 'jse', 'vbs', 'vbe', 'wsf', 'wsh', 'ps1', 'psm1', 'bat', 'cmd', 'hta', 'sh', 'lnk', 'reg', 'scf', 'vba'],
};

const EXTENSION_TO_TYPE = new Map<string, AttachmentFileType>(
  Object.entries(FILE_TYPE_EXTENSIONS).flatMap(([type, extensions]) =>
    extensions.map((extension) => [extension, type as AttachmentFileType] as const),
  ),
);

/** The file type its name claims (last extension, case-insensitive; trailing dots and spaces ignored, as Windows does). */
export function fileTypeFromName(filename: string | null | undefined): AttachmentFileType | null {
  if (!filename) {
    return null;
  }
  const name = filename.trim().replace(/[.\s]+$/, '').toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot < 0 ? null : (EXTENSION_TO_TYPE.get(name.slice(dot + 1)) ?? null);
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

/** Finds an ASCII string in the first `limit` bytes. */
function containsAscii(bytes: Uint8Array, text: string, limit: number): boolean {
  const needle = ascii(text);
  const end = Math.min(bytes.length, limit) - needle.length;
  for (let index = 0; index <= end; index++) {
    if (startsWith(bytes, needle, index)) {
      return true;
    }
  }
  return false;
}

const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06];
const ZIP_SPANNED = [0x50, 0x4b, 0x07, 0x08];
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ELF = [0x7f, 0x45, 0x4c, 0x46];
const RAR4 = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00];
const RAR5 = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00];
const SEVEN_ZIP = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const GZIP = [0x1f, 0x8b];
const BZIP2 = ascii('BZh');
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CAB = ascii('MSCF');
const MACHO = [
  [0xfe, 0xed, 0xfa, 0xce],
  [0xfe, 0xed, 0xfa, 0xcf],
  [0xce, 0xfa, 0xed, 0xfe],
  [0xcf, 0xfa, 0xed, 0xfe],
];

/**
 * The file type the content proves, from magic bytes, or null when none is recognised. Only the first bytes
 * are read (plus offset 0x8001 for ISO 9660), so this is cheap on large attachments.
 */
export function sniffFileType(bytes: Uint8Array): AttachmentFileType | null {
  // MZ: DOS/PE executables and DLLs; the PE header at e_lfanew (offset 0x3C) is not required, a bare MZ stub runs too.
  if (startsWith(bytes, [0x4d, 0x5a])) {
    return 'exe';
  }
  if (startsWith(bytes, ELF)) {
    return 'elf';
  }
  if (MACHO.some((signature) => startsWith(bytes, signature))) {
    return 'macho';
  }
  if (startsWith(bytes, ZIP_LOCAL_HEADER)) {
    // OOXML packages are ZIP files whose first entries include [Content_Types].xml (ECMA-376 Part 2, 10.1.2.4).
    return containsAscii(bytes, '[Content_Types].xml', 64 * 1024) ? 'ooxml' : 'zip';
  }
  if (startsWith(bytes, ZIP_EMPTY) || startsWith(bytes, ZIP_SPANNED)) {
    return 'zip';
  }
  if (startsWith(bytes, OLE2)) {
    return 'ole2';
  }
  // PDF 1.7 (ISO 32000-1) 7.5.2: readers accept the %PDF- header anywhere in the first 1024 bytes.
  if (containsAscii(bytes, '%PDF-', 1024)) {
    return 'pdf';
  }
  if (startsWith(bytes, RAR4) || startsWith(bytes, RAR5)) {
    return 'rar';
  }
  if (startsWith(bytes, SEVEN_ZIP)) {
    return '7z';
  }
  if (startsWith(bytes, GZIP)) {
    return 'gzip';
  }
  if (startsWith(bytes, BZIP2) && bytes.length > 3 && bytes[3] >= 0x31 && bytes[3] <= 0x39) {
    return 'bzip2';
  }
  if (startsWith(bytes, XZ)) {
    return 'xz';
  }
  if (startsWith(bytes, CAB)) {
    return 'cab';
  }
  // ISO 9660: the primary volume descriptor at sector 16 (0x8000) starts with type byte then "CD001".
  if (startsWith(bytes, ascii('CD001'), 0x8001)) {
    return 'iso';
  }
  return null;
}
