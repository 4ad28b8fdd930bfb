import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ApiKeyRepository, DUMMY_API_KEY_HASH, parseApiKey, verifyApiKeySecret, type ApiKey } from '@mailwarden/db';
import { AuthFailureThrottle, type Throttle } from './auth-failure-throttle';

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'wrong-secret' | 'too-many-failures';
export type AuthOutcome = { ok: true; key: ApiKey } | { ok: false; reason: AuthFailure; retryAfterSeconds?: number };

interface VerifiedSecret {
  /** The stored scrypt hash the secret was verified against (a re-keyed row invalidates the entry). */
  storedHash: string;
  digest: Buffer;
  expiresAt: number;
}

const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX_ENTRIES = 10_000;
export { MAX_FAILED_VERIFICATIONS_PER_MINUTE } from './auth-failure-throttle';

/**
 * Checks `mw_<prefix>_<secret>` keys. The row is read on every request (so revocation takes effect at once), but
 * the scrypt check (about 200 ms and 32 MiB on our 2-core machines, measured) runs only the first time a secret is
 * seen by this process within 5 minutes: after that a SHA-256 of the secret is compared in constant time. The
 * stored hash stays scrypt, so a leaked table is as hard to attack as before; the in-memory digest of a 192-bit
 * random secret cannot be reversed.
 *
 * Refusals cannot be told apart: an unknown prefix, a revoked key and a wrong secret all run the same scrypt check
 * (unknown and revoked against DUMMY_API_KEY_HASH) and answer the same 401.
 *
 * Failures are counted by AuthFailureThrottle (shared with password sign-in) per client address and key prefix,
 * and per client address alone (every failed or missing authentication: API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE).
 * Past either limit the address is throttled: its failures answer 429, and its checks run one at a time per
 * process (a throttled try that finds another one running is refused without hashing), so it cannot burn more
 * than one scrypt at a time. The right secret still
 * passes, even from a throttled address: knowing a prefix (read-only keys and the audit log show them) no longer
 * locks the key's owner out.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly verified = new Map<string, VerifiedSecret>();

  constructor(
    private readonly apiKeys: ApiKeyRepository,
    private readonly failures: AuthFailureThrottle,
  ) {}

  /** The scrypt comparison; a member so that tests can see which hash a refusal was checked against. */
  verifySecret(secret: string, storedHash: string): Promise<boolean> {
    return verifyApiKeySecret(secret, storedHash);
  }

  /** `plaintext` is the bearer token, or null when the request carried none. */
  async authenticate(plaintext: string | null, clientAddress: string, now = Date.now()): Promise<AuthOutcome> {
    const parsed = plaintext === null ? null : parseApiKey(plaintext);
    if (!parsed) {
      return this.refuse(clientAddress, null, plaintext === null ? 'missing' : 'malformed', now);
    }
    const key = await this.apiKeys.findForAuth(parsed.prefix);
    const usable = key !== null && key.revokedAt === null;
    const digest = createHash('sha256').update(parsed.secret).digest();
    const cached = usable ? this.verified.get(key.id) : undefined;
    if (usable && cached && cached.expiresAt > now && cached.storedHash === key.hash && timingSafeEqual(cached.digest, digest)) {
      await this.apiKeys.recordUse(key.id, new Date(now));
      return { ok: true, key };
    }
    if (key && !usable) {
      this.verified.delete(key.id);
    }

    const pairBucket = `auth-failures:${clientAddress}:${parsed.prefix}`;
    const throttle = await this.failures.throttle(clientAddress, pairBucket, now);
    const checked = await this.failures.serialised(throttle, () => this.verifySecret(parsed.secret, usable ? key.hash : DUMMY_API_KEY_HASH));
    if (!checked) {
      return { ok: false, reason: 'too-many-failures', retryAfterSeconds: throttle!.resetSeconds };
    }
    const matches = checked.value;
    if (usable && matches) {
      if (this.verified.size >= CACHE_MAX_ENTRIES) {
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(key.id, { storedHash: key.hash, digest, expiresAt: now + CACHE_TTL_MS });
      await this.apiKeys.recordUse(key.id, new Date(now));
      return { ok: true, key };
    }
    await this.failures.countPairFailure(pairBucket, now);
    return this.refuse(clientAddress, throttle, key === null ? 'unknown' : usable ? 'wrong-secret' : 'revoked', now);
  }

  private async refuse(clientAddress: string, throttle: Throttle | null, reason: AuthFailure, now: number): Promise<AuthOutcome> {
    const retryAfterSeconds = await this.failures.countRefusal(clientAddress, throttle, now);
    return retryAfterSeconds !== null ? { ok: false, reason: 'too-many-failures', retryAfterSeconds } : { ok: false, reason };
  }
}
