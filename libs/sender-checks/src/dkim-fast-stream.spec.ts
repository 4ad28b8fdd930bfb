import { rsaKey } from '../test/sender-checks.fixtures';
import { headerEnd, LinesToFix, withFastRelaxedUpdate, withFastStream, type RelaxedHashInternals } from './dkim-fast-stream';
import { DkimVerifier, dkimSign, RelaxedHash } from './mailauth.adapter';
import { ZoneDnsResolver } from './zone-resolver';

// The overrides must give exactly what mailauth's byte loops give. Random input (a seeded generator: the same cases
// every run) is cut into random chunks and fed to mailauth's own class and to the fast one.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

/** Text from pieces that exercise every branch: WSP runs, SP before CRLF, bare LF / CR, empty lines, the boundary. */
function randomText(next: () => number, pieces: number): string {
  const parts = ['word', 'x', ' ', '  ', '\t', ' \t ', '\r\n', '\r\n', '\r\n', '\n', '\r', ' \r\n', '\r\n\r\n', '--b1', '--b1\r\n', '\n\n'];
  let text = '';
  for (let i = 0; i < pieces; i++) {
    text += pick(next, parts);
  }
  return text;
}

function cut(next: () => number, data: Buffer): Buffer[] {
  const pieces = Math.floor(next() * 6);
  const cuts = Array.from({ length: pieces }, () => Math.floor(next() * (data.length + 1))).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, data.length]) {
    chunks.push(data.subarray(from, at));
    from = at;
  }
  return chunks;
}

type Hasher = RelaxedHashInternals & {
  canonicalizedLength: number;
  bodyHashedBytes: number;
  setContentType(value: { value: string; params: Record<string, string> }): void;
  digest(encoding: string): string;
  getMimeStructureStart(): number;
};

describe('dkim-fast-stream', () => {
  it('should find the end of the header section where the byte loop does, across chunks', () => {
    const at = (text: string, before: number[] = [], seen = before.length) => headerEnd(Buffer.from(text, 'latin1'), before, seen);
    expect(at('A: b\r\n\r\nbody')).toBe(7);
    expect(at('A: b\n\nbody')).toBe(5);
    expect(at('A: b\r\nC: d\r\n')).toBe(-1);
    expect(at('\r\nA: b')).toBe(1); // an empty first line: no header fields
    expect(at('\nA: b')).toBe(0);
    expect(at('\nbody', [0x0d, 0x0a, 0x0d], 9)).toBe(0); // CRLF CR | LF
    expect(at('\r\nbody', [0x0d, 0x0a], 9)).toBe(1); // CRLF | CRLF
    expect(at('\r\nbody', [0x61], 1)).toBe(-1); // "a" | CRLF: the first line ends, no empty line yet
  });

  it('should find the first line relaxed canonicalisation rewrites', () => {
    const at = (text: string, from = 0) => new LinesToFix(Buffer.from(text, 'latin1')).next(from);
    expect(at('clean line\r\nanother\r\n')).toBe(-1);
    expect(at('a\tb\r\n')).toBe(1);
    expect(at('a  b\r\n')).toBe(1);
    expect(at('ab \r\n')).toBe(4); // SP CRLF: its LF
    expect(at('ab\r\ncd\n')).toBe(6); // bare LF
    expect(at('\nab\r\n')).toBe(0);
    expect(at('a\r b\r\n')).toBe(-1); // a CR inside a line is content
    expect(at('a  b\r\nc\td\r\n', 6)).toBe(7);
    // resumed searches: every line of a chunk, in order
    const lines = new LinesToFix(Buffer.from('a\tb\r\nclean\r\nc  d\r\ne \r\nf\n\tg', 'latin1'));
    expect([0, 5, 18, 22, 24].map((from) => lines.next(from))).toEqual([1, 13, 21, 23, 24]);
  });

  it('should hash a relaxed body as mailauth RelaxedHash does, whatever the chunks, l= and MIME boundary', () => {
    const Fast = withFastRelaxedUpdate(RelaxedHash);
    const next = random(20);
    for (let run = 0; run < 3000; run++) {
      const body = Buffer.from(randomText(next, Math.floor(next() * 60)), 'latin1');
      const limit = pick(next, [undefined, '', 0, 5, Math.floor(next() * body.length)]);
      const boundary = next() < 0.3;
      const chunks = cut(next, body);
      const [mailauth, fast] = [new RelaxedHash('sha256', limit) as Hasher, new Fast('sha256', limit) as Hasher];
      for (const hasher of [mailauth, fast]) {
        if (boundary) {
          hasher.setContentType({ value: 'multipart/mixed', params: { boundary: 'b1' } });
        }
        chunks.forEach((chunk) => hasher.update(chunk));
      }
      const state = (hasher: Hasher) => ({
        hash: hasher.digest('base64'),
        byteLength: hasher.byteLength,
        canonicalizedLength: hasher.canonicalizedLength,
        bodyHashedBytes: hasher.bodyHashedBytes,
        mimeStructureStart: hasher.getMimeStructureStart(),
      });
      expect({ run, ...state(fast) }).toEqual({ run, ...state(mailauth) });
    }
  });

  it('should verify as mailauth DkimVerifier does: line endings, header ends, canonicalisations, any chunks', async () => {
    const Fast = withFastStream(DkimVerifier, RelaxedHash);
    const key = rsaKey();
    const resolver = new ZoneDnsResolver({
      's1._domainkey.example.org': { TXT: [`v=DKIM1; k=rsa; p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`] },
    }).resolve;
    const next = random(6376);
    const verify = async (Verifier: typeof DkimVerifier, chunks: Buffer[]) => {
      const verifier = new Verifier({ resolver, strict: true, minBitLength: 1024, curTime: new Date('2026-12-01T00:00:00Z') } as never);
      await new Promise<void>((resolve, reject) => {
        verifier.on('error', reject);
        verifier.on('finish', () => resolve());
        chunks.forEach((chunk) => verifier.write(chunk));
        verifier.end();
      });
      const { headerFrom, fromFields, envelopeFrom, results, headers, arc } = verifier;
      return JSON.parse(JSON.stringify({ headerFrom, fromFields, envelopeFrom, results, headers, arc }));
    };
    for (let run = 0; run < 150; run++) {
      const eol = () => pick(next, ['\r\n', '\r\n', '\n']);
      const fields = [`From: a${run}@example.org`, 'To: b@example.net', `Subject: case ${run}${eol()} \tfolded`, 'Content-Type: multipart/mixed; boundary=b1'];
      const header = (next() < 0.1 ? eol() : '') + fields.map((field) => field + eol()).join('');
      const body = randomText(next, Math.floor(next() * 40));
      const unsigned = Buffer.from(next() < 0.1 ? header : `${header}${eol()}${body}`, 'latin1');
      const canonicalization = pick(next, ['relaxed/relaxed', 'relaxed/simple', 'simple/simple', 'simple/relaxed']);
      const signer = { signingDomain: 'example.org', selector: 's1', privateKey: key.privateKeyPem, maxBodyLength: next() < 0.2 ? 7 : undefined };
      const signed = await dkimSign(unsigned, { ...signer, canonicalization, signatureData: [signer] } as never);
      const message = Buffer.concat([Buffer.from(signed.signatures ?? ''), next() < 0.2 ? Buffer.concat([unsigned, Buffer.from('x')]) : unsigned]); // some tampered after signing
      const chunks = cut(next, message);
      expect({ run, ...(await verify(Fast, chunks)) }).toEqual({ run, ...(await verify(DkimVerifier, chunks)) });
    }
  });
});
