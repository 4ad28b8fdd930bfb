import { hashApiKeySecret, newApiKey, parseApiKey, verifyApiKeySecret } from './api-key.secret';

describe('API key secrets', () => {
  it('should make keys that parse back into their prefix and secret, each one different', () => {
    const keys = Array.from({ length: 50 }, () => newApiKey());
    for (const key of keys) {
      expect(key.plaintext).toBe(`mw_${key.prefix}_${key.secret}`);
      expect(parseApiKey(key.plaintext)).toEqual({ prefix: key.prefix, secret: key.secret });
    }
    expect(new Set(keys.map((key) => key.prefix)).size).toBe(keys.length);
  });

  it('should refuse text not shaped like a key', () => {
    for (const text of ['', 'mw_', 'mw_ABCDEFGHIJKL_' + 'a'.repeat(32), 'mw_abc_' + 'a'.repeat(32), 'xx_abcdefghijkl_' + 'a'.repeat(32), 'mw_abcdefghijkl_short']) {
      expect(parseApiKey(text)).toBeNull();
    }
  });

  it('should verify the secret against its hash and nothing else', async () => {
    const { secret } = newApiKey();
    const hash = await hashApiKeySecret(secret);
    expect(await verifyApiKeySecret(secret, hash)).toBe(true);
    expect(await verifyApiKeySecret(`${secret}x`, hash)).toBe(false);
  });
});
