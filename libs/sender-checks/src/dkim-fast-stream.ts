/**
 * Byte-level helpers of mailauth's DKIM stream done with native Buffer searches instead of JavaScript loops over every
 * byte (issue 20, tools/bench/README.md "DKIM stream on native searches"): about half of a scan's Node CPU was
 * mailauth's per-byte loops — `MessageParser.ensureLinebreaks` (bare LF → CRLF), the header-end search of
 * `MessageParser.processChunk` and the relaxed body canonicalisation of `RelaxedHash.update`.
 *
 * Nothing here decides anything about DKIM: each override gives the same output, chunk for chunk, as the method it
 * replaces (mailauth 7.1.0's, see {@link FAST_STREAM_MAILAUTH_VERSION}), and hands every line that needs rewriting to
 * mailauth's own code (`fixLineBuffer`, `_pushBodyHash`, `emitHeaders`, `nextChunk`). dkim-fast-stream.spec.ts
 * compares both, on random input cut into random chunks, and the conformance suites give the same figures.
 * Only mailauth.adapter.ts applies them (to its own verifier), so no mailauth code is patched.
 */

/** The mailauth version whose MessageParser and RelaxedHash these overrides were written against and compared with. */
export const FAST_STREAM_MAILAUTH_VERSION = '7.1.0';

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const CRLF_TEXT = '\r\n';

/** What the overrides use of mailauth's MessageParser (mailauth/lib/dkim/message-parser.js). */
export interface MessageParserInternals {
  state: string;
  stateBytes: number[];
  headerBytes: number;
  headerChunks: Buffer[];
  lastByte?: number;
  bodyHashes: Map<string, unknown>;
  emitHeaders(chunk?: Buffer): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
  processChunk(chunk: Buffer): Promise<void>;
  ensureLinebreaks(input: Buffer): Generator<Buffer>;
  addBodyHash(bodyCanon: string, hashAlgo: string, maxBodyLength: number | string): string;
  /** What `_write` runs for a chunk, and `_final` at the end (no stream machinery). */
  writeAsync(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
}

/** What the override uses of mailauth's RelaxedHash (mailauth/lib/dkim/body/relaxed.js). */
export interface RelaxedHashInternals {
  remainder: Buffer | false;
  byteLength: number;
  update(chunk: Buffer | null, final?: boolean): void;
  fixLineBuffer(line: Buffer): Buffer;
  _pushBodyHash(chunk: Buffer): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base constructor (TS2545 requires any[])
type Constructor<T> = new (...args: any[]) => T;
type RelaxedHashConstructor = new (algorithm?: string, maxBodyLength?: number | string) => RelaxedHashInternals;

/**
 * `ensureLinebreaks` of MessageParser: every LF not preceded by CR (`lastByte` carries the byte before the chunk)
 * is written as CRLF; the same pieces are yielded (the text before and the CRLF as one piece, the rest as is).
 */
export function* ensureLinebreaks(this: MessageParserInternals, input: Buffer): Generator<Buffer> {
  let pos = 0;
  const text = input.toString('latin1'); // see LinesToFix
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    const previous = i === 0 ? this.lastByte : text.charCodeAt(i - 1);
    if (previous !== CR) {
      yield i === 0 || pos === i ? Buffer.from(CRLF_TEXT) : Buffer.concat([input.subarray(pos, i), Buffer.from(CRLF_TEXT)]);
      pos = i + 1;
    }
  }
  if (input.length) {
    this.lastByte = input[input.length - 1];
  }
  if (pos === 0) {
    yield input;
  } else if (pos < input.length) {
    yield input.subarray(pos);
  }
}

/**
 * Where the header section of a chunk ends, as MessageParser.processChunk's byte loop finds it: the index of the LF
 * of the empty line (LF LF, LF CR LF, or an empty first line: RFC 5322 2.1), or -1. `before` holds the last bytes of
 * the earlier chunks (at most 4, oldest first) and `headerBytes` how many there were.
 */
export function headerEnd(chunk: Buffer, before: readonly number[], headerBytes: number): number {
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const b1 = i >= 1 ? chunk[i - 1] : before[before.length - 1];
    const b2 = i >= 2 ? chunk[i - 2] : before[before.length - 2 + i];
    const seen = headerBytes + i + 1;
    if (b1 === LF || (b1 === CR && b2 === LF) || seen === 1 || (seen === 2 && b1 === CR)) {
      return i;
    }
  }
  return -1;
}

/** `processChunk` of MessageParser, with the header-end search of {@link headerEnd}; its state is kept the same. */
export async function processChunk(this: MessageParserInternals, chunk: Buffer): Promise<void> {
  if (!chunk || !chunk.length) {
    return;
  }
  if (this.state === 'header') {
    const end = headerEnd(chunk, this.stateBytes, this.headerBytes);
    const consumed = end === -1 ? chunk.length : end + 1;
    this.headerBytes += consumed;
    this.stateBytes = [...this.stateBytes, ...chunk.subarray(Math.max(0, consumed - 4), consumed)].slice(-4);
    if (end !== -1) {
      if (end === chunk.length - 1) {
        await this.emitHeaders(chunk);
        return;
      }
      await this.emitHeaders(chunk.subarray(0, end + 1));
      chunk = chunk.subarray(end + 1);
    }
  }
  if (this.state !== 'body') {
    this.headerChunks.push(chunk);
    return;
  }
  await this.nextChunk(chunk);
}

/**
 * The lines of a chunk that relaxed canonicalisation rewrites (RelaxedHash.update sets `lineNeedsFixing`), found left
 * to right: a TAB, a second SP in a row, or the LF of a line that ends in SP CRLF or in a bare LF (not after CR, or
 * first in the chunk). Each search resumes where it stopped, so a chunk is read a bounded number of times however many
 * of its lines need rewriting; the LFs are walked on a latin1 copy (a Buffer.indexOf call per LF costs several times
 * a string's), and SP CRLF is checked on that walk (a search for a pattern that starts with SP is as slow as the walk).
 */
export class LinesToFix {
  private readonly text: string;
  private tab = -2;
  private spaces = -2;
  private lf = -2;

  constructor(chunk: Buffer) {
    this.text = chunk.toString('latin1');
  }

  /** The first such byte at or after `from` (which never decreases from call to call), or -1. */
  next(from: number): number {
    const text = this.text;
    if (this.tab !== -1 && this.tab < from) {
      this.tab = text.indexOf('\t', from);
    }
    if (this.spaces !== -1 && this.spaces < from) {
      this.spaces = text.indexOf('  ', from);
    }
    const first = this.tab === -1 ? this.spaces : this.spaces === -1 ? this.tab : Math.min(this.tab, this.spaces);
    const limit = first === -1 ? text.length : first;
    if (this.lf !== -1 && this.lf < from) {
      this.lf = text.indexOf('\n', from);
    }
    while (this.lf !== -1 && this.lf < limit) {
      const i = this.lf;
      if (i === 0 || text.charCodeAt(i - 1) !== CR || text.charCodeAt(i - 2) === SPACE) {
        return i;
      }
      this.lf = text.indexOf('\n', i + 1);
    }
    return first;
  }
}

/**
 * `update` of RelaxedHash: runs of lines that need no rewriting (most of a message) go to mailauth's `_pushBodyHash`
 * in one piece, each line that does through mailauth's own `fixLineBuffer`, as the byte loop would; an unfinished
 * last line is kept as `remainder`. The final call (from `digest`) is mailauth's own.
 */
export function relaxedUpdate(this: RelaxedHashInternals, original: RelaxedHashInternals['update'], chunk: Buffer | null, final?: boolean): void {
  if (final || !chunk || !chunk.length) {
    original.call(this, chunk, final);
    return;
  }
  this.byteLength += chunk.length;
  if (this.remainder && this.remainder.length) {
    chunk = Buffer.concat([this.remainder, chunk]);
  }
  this.remainder = false;
  const lastLineEnd = chunk.lastIndexOf(LF);
  const linesToFix = new LinesToFix(chunk);
  let start = 0;
  while (start <= lastLineEnd) {
    const fix = linesToFix.next(start);
    if (fix === -1 || fix > lastLineEnd) {
      this._pushBodyHash(chunk.subarray(start, lastLineEnd + 1));
      start = lastLineEnd + 1;
      break;
    }
    // the line holding that byte: from the LF before it to the LF that ends it
    const lineStart = fix === 0 ? 0 : Math.max(start, chunk.lastIndexOf(LF, fix - 1) + 1);
    const lineEnd = chunk.indexOf(LF, fix);
    if (lineStart > start) {
      this._pushBodyHash(chunk.subarray(start, lineStart));
    }
    this._pushBodyHash(this.fixLineBuffer(chunk.subarray(lineStart, lineEnd + 1)));
    start = lineEnd + 1;
  }
  if (start < chunk.length) {
    this.remainder = chunk.subarray(start);
  }
}

/** A subclass of mailauth's RelaxedHash whose `update` is {@link relaxedUpdate}. */
export function withFastRelaxedUpdate(RelaxedHash: RelaxedHashConstructor): RelaxedHashConstructor {
  const original = RelaxedHash.prototype.update;
  return class FastRelaxedHash extends RelaxedHash {
    override update(chunk: Buffer | null, final?: boolean): void {
      relaxedUpdate.call(this, original, chunk, final);
    }
  };
}

/**
 * A subclass of mailauth's DkimVerifier whose per-byte loops are the native searches above, and whose relaxed body
 * hashers are {@link RelaxedHash} with {@link relaxedUpdate}. Everything else is mailauth's.
 */
export function withFastStream<T extends Constructor<MessageParserInternals>>(DkimVerifier: T, RelaxedHash: RelaxedHashConstructor): T {
  const FastRelaxedHash = withFastRelaxedUpdate(RelaxedHash);
  class FastDkimVerifier extends DkimVerifier {
    override ensureLinebreaks(input: Buffer): Generator<Buffer> {
      return ensureLinebreaks.call(this, input);
    }

    override processChunk(chunk: Buffer): Promise<void> {
      return processChunk.call(this, chunk);
    }

    override addBodyHash(bodyCanon: string, hashAlgo: string, maxBodyLength: number | string): string {
      const known = this.bodyHashes.size;
      const key = super.addBodyHash(bodyCanon, hashAlgo, maxBodyLength);
      const hasher = this.bodyHashes.get(key);
      if (this.bodyHashes.size > known && Object.getPrototypeOf(hasher) === RelaxedHash.prototype) {
        // mailauth's dkimBody(...) made a RelaxedHash(hashAlgo, maxBodyLength): the same, with the fast update
        this.bodyHashes.set(key, new FastRelaxedHash(hashAlgo, maxBodyLength));
      }
      return key;
    }
  }
  return FastDkimVerifier;
}
