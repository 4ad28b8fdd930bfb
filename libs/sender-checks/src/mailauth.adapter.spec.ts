import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { DNSResolver } from 'mailauth';
import { arcSeal, keyRecord, loadMessage, rsaKey, signDkim } from '../test/sender-checks.fixtures';
import {
  arc,
  dkimSign,
  DKIM_FAST_STREAM_REFUSED,
  dkimVerify,
  evaluateDmarc,
  getAlignment,
  getPublicKey,
  KEY_ERROR_COMMENTS,
  loadMailauthTools,
  MAILAUTH_TOOLS_MODULE,
  MAILAUTH_VERSION,
  mailauthDkimVerify,
  PARSED_KEY_MEMO_ENTRIES,
  parsedKeyMemoSize,
  sealMessage,
  spf,
} from './mailauth.adapter';
import { FAST_STREAM_MAILAUTH_VERSION } from './dkim-fast-stream';
import { ZoneDnsResolver } from './zone-resolver';

// If this suite fails after a mailauth upgrade, mailauth moved or changed an internal module the sender checks use:
// fix libs/sender-checks/src/mailauth.adapter.ts (and only it) before anything else.
describe('mailauth adapter', () => {
  it('finds every internal mailauth module and export the sender checks use', () => {
    for (const fn of [arc, dkimSign, dkimVerify, evaluateDmarc, sealMessage, spf, getAlignment, getPublicKey]) {
      expect(typeof fn).toBe('function');
    }
    expect(KEY_ERROR_COMMENTS).toBeInstanceOf(Map);
    // the codes authenticate-message.ts maps to neutral (RFC 8601 2.7.1) must still be there
    expect(KEY_ERROR_COMMENTS.size).toBeGreaterThan(0);
    for (const comment of KEY_ERROR_COMMENTS.values()) {
      expect(typeof comment).toBe('string');
    }
  });

  it('getAlignment still aligns relaxed by Organizational Domain and strict by exact domain', () => {
    expect(getAlignment('mail.example.com', ['example.com'], false)).toEqual(expect.objectContaining({ domain: 'example.com' }));
    expect(getAlignment('mail.example.com', ['example.com'], true)).toBe(false);
    expect(getAlignment('example.com', ['example.net'], false)).toBe(false);
  });

  it('getPublicKey still reads a key record, and throws a coded error for a missing or short key', async () => {
    const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const records: Record<string, string> = { 'good._domainkey.example.com': `v=DKIM1; k=rsa; p=${rsa(2048)}`, 'short._domainkey.example.com': `v=DKIM1; k=rsa; p=${rsa(512)}` };
    const resolver = async (name: string) => {
      if (!records[name]) {
        throw Object.assign(new Error(`no ${name}`), { code: 'ENOTFOUND' });
      }
      return [[records[name]]];
    };
    const key = await getPublicKey('DKIM', 'good._domainkey.example.com', 1024, resolver, { strict: true, hashAlgo: 'sha256' });
    expect(key.modulusLength).toBe(2048);
    expect(key.rr).toContain('v=DKIM1');
    await expect(getPublicKey('DKIM', 'short._domainkey.example.com', 1024, resolver, { strict: true, hashAlgo: 'sha256' })).rejects.toMatchObject({ code: 'ESHORTKEY' });
    const missing = await getPublicKey('DKIM', 'none._domainkey.example.com', 1024, resolver).catch((err: { code?: string }) => err);
    expect(missing).toMatchObject({ code: expect.any(String) });
  });

  it('fails loudly, naming the adapter, when mailauth/lib/tools moves or loses a member', () => {
    expect(() =>
      loadMailauthTools(() => {
        throw new Error(`Cannot find module '${MAILAUTH_TOOLS_MODULE}'`);
      }),
    ).toThrow(/mailauth upgrade: mailauth\/lib\/tools cannot be loaded .*mailauth\.adapter\.ts/);
    expect(() => loadMailauthTools(() => ({ KEY_ERROR_COMMENTS: new Map(), getPublicKey: () => undefined }))).toThrow(/getAlignment is not a function/);
    expect(() => loadMailauthTools(() => ({ KEY_ERROR_COMMENTS: {}, getAlignment: () => false, getPublicKey: () => undefined }))).toThrow(/KEY_ERROR_COMMENTS is not a Map/);
  });

  // On a mailauth upgrade: compare dkim-fast-stream.ts's overrides with the new MessageParser / RelaxedHash (its spec
  // does, on random input), then move FAST_STREAM_MAILAUTH_VERSION. Until then the checks run on mailauth's byte loops.
  it('should run the DKIM stream on the native searches, with the mailauth version they were compared with (pinned)', () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies.mailauth).toBe(FAST_STREAM_MAILAUTH_VERSION);
    expect(MAILAUTH_VERSION).toBe(FAST_STREAM_MAILAUTH_VERSION);
    expect(DKIM_FAST_STREAM_REFUSED).toBeNull();
  });

  it('is the only file of libs/sender-checks that imports a mailauth/lib path', () => {
    const root = path.join(__dirname, '..');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
      );
    // The lib's sources (its build output under dist/ repeats the adapter's declarations).
    const importers = files(path.join(root, 'src'))
      .filter((file) => /from\s+['"]mailauth\/lib\//.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(root, file));
    expect(importers).toEqual([path.join('src', 'mailauth.adapter.ts')]);
  });
});

describe('dkimVerify with parsed keys remembered across messages', () => {
  const key = rsaKey();
  const sealKey = rsaKey();
  const original = loadMessage('inbound.eml');
  const zone = () => ({
    's1._domainkey.partner.example': { TXT: [keyRecord(key)] },
    'arc._domainkey.sealer.example': { TXT: [keyRecord(sealKey)] },
  });
  // Everything mailauth's own dkimVerify gives, hidden properties included.
  const everything = (result: Awaited<ReturnType<typeof dkimVerify>>) => {
    const hidden = result as unknown as { headers?: unknown; arc?: unknown; seal?: unknown };
    return JSON.parse(JSON.stringify({ ...result, headers: hidden.headers, arc: hidden.arc, seal: hidden.seal }));
  };

  it('should give what mailauth dkimVerify gives: passing, failing and unsigned messages, ARC sets, strict and lenient', async () => {
    const signed = await signDkim(original, { domain: 'partner.example', selector: 's1', key });
    const sealed = await arcSeal(signed, { domain: 'sealer.example', selector: 'arc', key: sealKey, authResults: 'mx.sealer.example; dkim=pass header.d=partner.example' });
    const broken = Buffer.from(signed.toString('latin1').replace('\r\n\r\n', '\r\n\r\nInserted line.\r\n'), 'latin1');
    // more than one 64 KB write (lines with TABs, SP runs and trailing SP, which relaxed canonicalisation rewrites), no body, nothing
    const lines = Array.from({ length: 4000 }, (_, i) => (i % 3 ? `line ${i}\tof  the body \r\n` : `line ${i} of the body\r\n`)).join('');
    const large = await signDkim(Buffer.concat([original, Buffer.from(lines)]), { domain: 'partner.example', selector: 's1', key });
    const headersOnly = Buffer.from(signed.toString('latin1').split('\r\n\r\n')[0]!, 'latin1');
    const resolver = new ZoneDnsResolver(zone()).resolve;
    for (const message of [signed, sealed, broken, original, large, headersOnly, Buffer.alloc(0)]) {
      for (const strict of [true, false]) {
        const options = { resolver, strict, minBitLength: 1024, curTime: new Date('2026-12-01T00:00:00Z') } as Parameters<typeof dkimVerify>[1];
        // twice: the second run takes the remembered keys
        for (let run = 0; run < 2; run++) {
          expect(everything(await dkimVerify(message, options))).toEqual(everything(await mailauthDkimVerify(message, options)));
        }
      }
    }
  });

  const strictWith = (zoneResolver: ZoneDnsResolver) => ({ resolver: zoneResolver.resolve as DNSResolver, strict: true });

  it('should ask the resolver for every message and parse a record once, and a changed record at once', async () => {
    const records = zone();
    const resolver = new ZoneDnsResolver(records);
    const signed = await signDkim(original, { domain: 'partner.example', selector: 's1', key });
    const before = parsedKeyMemoSize();
    expect((await dkimVerify(signed, strictWith(resolver))).results?.[0]?.status.result).toBe('pass');
    expect((await dkimVerify(signed, strictWith(resolver))).results?.[0]?.status.result).toBe('pass');
    expect(resolver.calls.filter((call) => call === 'TXT s1._domainkey.partner.example')).toHaveLength(2);
    expect(parsedKeyMemoSize()).toBe(Math.min(before + 1, PARSED_KEY_MEMO_ENTRIES));
    // the key is rotated in DNS: the next message sees the new record, not the remembered key
    const rotated = new ZoneDnsResolver({ ...records, 's1._domainkey.partner.example': { TXT: [keyRecord(rsaKey())] } });
    expect((await dkimVerify(signed, strictWith(rotated))).results?.[0]?.status.result).toBe('fail');
    // revoked (empty p=): a failed parse is never remembered, and a DNS failure is the resolver's own error
    const revoked = new ZoneDnsResolver({ ...records, 's1._domainkey.partner.example': { TXT: ['v=DKIM1; p='] } });
    const result = await dkimVerify(signed, strictWith(revoked));
    expect(result.results?.[0]?.status).toEqual((await mailauthDkimVerify(signed, strictWith(revoked))).results?.[0]?.status);
    const down = new ZoneDnsResolver({ ...records, 's1._domainkey.partner.example': { TXT: { error: 'ETIMEOUT' } } });
    expect((await dkimVerify(signed, strictWith(down))).results?.[0]?.status).toEqual(
      (await mailauthDkimVerify(signed, strictWith(down))).results?.[0]?.status,
    );
  });
});
