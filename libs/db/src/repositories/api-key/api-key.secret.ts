import { randomBytes } from 'node:crypto';
import { DUMMY_SECRET_HASH, hashSecret, verifySecret } from '../../secret-hash';

/** API key secrets are hashed like passwords (secret-hash.ts): the names are kept for their callers. */
export const hashApiKeySecret = hashSecret;
export const verifyApiKeySecret = verifySecret;
export const DUMMY_API_KEY_HASH = DUMMY_SECRET_HASH;

/** A fresh key `mw_<prefix>_<secret>`: a public 12-character prefix (the lookup) and a 192-bit secret. */
export function newApiKey(): { prefix: string; secret: string; plaintext: string } {
  const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const secret = randomBytes(24).toString('base64url');
  return { prefix, secret, plaintext: `mw_${prefix}_${secret}` };
}

/** Splits `mw_<prefix>_<secret>`; null when the text is not shaped like a Mailwarden key. */
export function parseApiKey(plaintext: string): { prefix: string; secret: string } | null {
  const match = /^mw_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/.exec(plaintext.trim());
  return match ? { prefix: match[1]!, secret: match[2]! } : null;
}
