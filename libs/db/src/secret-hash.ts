import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

// scrypt cost: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 32 MiB of memory per check.
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * The one password-hashing scheme of Mailwarden (API key secrets and people's passwords):
 * `scrypt$N$r$p$<salt>$<hash>` with node's scrypt, so no native dependency is needed and both are checked alike.
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const derived = await scrypt(secret, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), derived.toString('base64')].join('$');
}

/**
 * A well-formed hash no secret matches (its derived bytes are zeros): an unknown key or user is checked against
 * it, so that every refusal costs the same scrypt run and takes the same time.
 */
export const DUMMY_SECRET_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, Buffer.alloc(16, 7).toString('base64'), Buffer.alloc(32).toString('base64')].join('$');

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [algorithm, n, r, p, salt, hash] = stored.split('$');
  if (algorithm !== 'scrypt' || !salt || !hash) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const derived = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(derived, expected);
}
