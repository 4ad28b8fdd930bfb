import { createHmac } from 'node:crypto';
import { checkTotp, newTotpSecret, totpCode, totpUri } from './totp';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const base32 = (bytes: Buffer): string => {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  return bits.match(/.{1,5}/g)!.map((chunk) => BASE32[parseInt(chunk.padEnd(5, '0'), 2)]).join('');
};

/** RFC 6238 Appendix B, SHA-1, with the 20-byte key "12345678901234567890" (8-digit vectors, last 6 digits). */
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
];

describe('TOTP (RFC 6238)', () => {
  const secret = base32(Buffer.from('12345678901234567890'));

  it.each(RFC_VECTORS)('should give the RFC 6238 code at %i s (last 6 digits of %s)', async (seconds, code) => {
    expect(await totpCode(secret, seconds * 1000)).toBe(code.slice(-6));
    // Cross-check with a plain HMAC-SHA1 dynamic truncation (RFC 4226 §5.3).
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
    const mac = createHmac('sha1', Buffer.from('12345678901234567890')).update(counter).digest();
    const offset = mac[19]! & 0xf;
    expect(String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')).toBe(code.slice(-6));
  });

  it('should accept a code of the step before or after now, not two steps away, and only after the last used step', async () => {
    const now = 1_700_000_000_000;
    const step = Math.floor(now / 30_000);
    const previous = await totpCode(secret, now - 30_000);
    expect(await checkTotp(secret, previous, null, now)).toEqual({ ok: true, step: step - 1 });
    expect(await checkTotp(secret, await totpCode(secret, now + 30_000), null, now)).toEqual({ ok: true, step: step + 1 });
    expect(await checkTotp(secret, await totpCode(secret, now - 90_000), null, now)).toEqual({ ok: false });
    expect(await checkTotp(secret, previous, step - 1, now)).toEqual({ ok: false });
    expect(await checkTotp(secret, await totpCode(secret, now), step - 1, now)).toEqual({ ok: true, step });
  });

  it('should refuse what is not 6 digits', async () => {
    for (const code of ['', '12345', '1234567', 'abcdef', ' 123456']) {
      expect(await checkTotp(secret, code, null)).toEqual({ ok: false });
    }
  });

  it('should make 160-bit base32 secrets and an otpauth URI for authenticator apps', () => {
    const fresh = newTotpSecret();
    expect(fresh).toMatch(/^[A-Z2-7]{32}$/);
    expect(totpUri(fresh, 'ada@example.com')).toMatch(new RegExp(`^otpauth://totp/Mailwarden:ada%40example\\.com\\?.*secret=${fresh}`));
  });
});
