import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { arc, dkimSign, dkimVerify, evaluateDmarc, getAlignment, getPublicKey, KEY_ERROR_COMMENTS, loadMailauthTools, MAILAUTH_TOOLS_MODULE, sealMessage, spf } from './mailauth.adapter';

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
