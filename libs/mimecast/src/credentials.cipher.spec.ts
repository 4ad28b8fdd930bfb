import { randomBytes } from 'node:crypto';
import { CredentialsCipher } from './credentials.cipher';

const KEY = randomBytes(32).toString('base64');
const ACCOUNT = '6f1c1f43-8a55-4c1e-9d0e-0a4d1c7f2b11';

describe(CredentialsCipher.name, () => {
  it('should decrypt what it encrypted', () => {
    const cipher = new CredentialsCipher(KEY);
    const sealed = cipher.encrypt({ clientId: 'id', clientSecret: 's3cret' }, ACCOUNT);
    expect(cipher.decrypt(sealed, ACCOUNT)).toEqual({ clientId: 'id', clientSecret: 's3cret' });
  });

  it('should not leave the secret readable in the stored text', () => {
    const sealed = new CredentialsCipher(KEY).encrypt({ clientSecret: 's3cret-value' }, ACCOUNT);
    expect(sealed).not.toContain('s3cret');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('s3cret');
  });

  it('should use a fresh IV for every encryption', () => {
    const cipher = new CredentialsCipher(KEY);
    expect(cipher.encrypt({ a: 1 }, ACCOUNT)).not.toBe(cipher.encrypt({ a: 1 }, ACCOUNT));
  });

  it('should refuse a ciphertext moved to another account', () => {
    const cipher = new CredentialsCipher(KEY);
    const sealed = cipher.encrypt({ a: 1 }, ACCOUNT);
    expect(() => cipher.decrypt(sealed, '00000000-0000-0000-0000-000000000000')).toThrow();
  });

  it('should refuse a tampered ciphertext', () => {
    const cipher = new CredentialsCipher(KEY);
    const [format, iv, tag, body] = cipher.encrypt({ a: 1 }, ACCOUNT).split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => cipher.decrypt([format, iv, tag, flipped.toString('base64url')].join('.'), ACCOUNT)).toThrow();
  });

  it('should refuse another key', () => {
    const sealed = new CredentialsCipher(KEY).encrypt({ a: 1 }, ACCOUNT);
    expect(() => new CredentialsCipher(randomBytes(32).toString('base64')).decrypt(sealed, ACCOUNT)).toThrow();
  });

  it('should refuse a key that is not 32 bytes', () => {
    expect(() => new CredentialsCipher(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
