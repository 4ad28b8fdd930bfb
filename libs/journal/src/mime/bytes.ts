/** Byte values the byte-exact MIME readers compare against (latin1 strings and Buffers alike). */
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const HT = 0x09;
export const DASH = 0x2d;
