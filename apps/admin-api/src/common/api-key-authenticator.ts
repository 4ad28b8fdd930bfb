import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { parseApiKey, TenantRepository, verifyApiKeySecret, type ApiKey } from '@mailwarden/db';
import { RateLimiter } from './rate-limiter';

export type AuthOutcome = { ok: true; key: ApiKey } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'wrong-secret' | 'too-many-failures'; retryAfterSeconds?: number };

interface VerifiedSecret {
  /** The stored scrypt hash the secret was verified against (a re-keyed row invalidates the entry). */
  storedHash: string;
  digest: Buffer;
  expiresAt: number;
}

const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX_ENTRIES = 10_000;
/** Wrong secrets tried against one key per minute before further tries are refused without hashing. */
export const MAX_FAILED_VERIFICATIONS_PER_MINUTE = 10;

/**
 * Checks `mw_<prefix>_<secret>` keys. The row is read on every request (so revocation takes effect at once), but
 * the scrypt check (about 200 ms and 32 MiB on our 2-core machines, measured) runs only the first time a secret is
 * seen by this process within 5 minutes: after that a SHA-256 of the secret is compared in constant time. The
 * stored hash stays scrypt, so a leaked table is as hard to attack as before; the in-memory digest of a 192-bit
 * random secret cannot be reversed. Wrong secrets are counted per key and refused without hashing past 10 a minute,
 * so a known prefix cannot be used to burn CPU.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly verified = new Map<string, VerifiedSecret>();

  constructor(
    private readonly tenants: TenantRepository,
    private readonly rateLimiter: RateLimiter,
  ) {}

  async authenticate(plaintext: string, now = Date.now()): Promise<AuthOutcome> {
    const parsed = parseApiKey(plaintext);
    if (!parsed) {
      return { ok: false, reason: 'malformed' };
    }
    const key = await this.tenants.findApiKeyForAuth(parsed.prefix);
    if (!key) {
      return { ok: false, reason: 'unknown' };
    }
    if (key.revokedAt) {
      this.verified.delete(key.id);
      return { ok: false, reason: 'revoked' };
    }
    const digest = createHash('sha256').update(parsed.secret).digest();
    const cached = this.verified.get(key.id);
    if (cached && cached.expiresAt > now && cached.storedHash === key.hash && timingSafeEqual(cached.digest, digest)) {
      await this.tenants.recordApiKeyUse(key.id, new Date(now));
      return { ok: true, key };
    }
    const failures = await this.rateLimiter.peek(`auth-failures:${key.id}`, now);
    if (failures.count >= MAX_FAILED_VERIFICATIONS_PER_MINUTE) {
      return { ok: false, reason: 'too-many-failures', retryAfterSeconds: failures.resetSeconds };
    }
    if (!(await verifyApiKeySecret(parsed.secret, key.hash))) {
      await this.rateLimiter.consume(`auth-failures:${key.id}`, now);
      return { ok: false, reason: 'wrong-secret' };
    }
    if (this.verified.size >= CACHE_MAX_ENTRIES) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(key.id, { storedHash: key.hash, digest, expiresAt: now + CACHE_TTL_MS });
    await this.tenants.recordApiKeyUse(key.id, new Date(now));
    return { ok: true, key };
  }
}
