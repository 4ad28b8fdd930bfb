import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { DUMMY_API_KEY_HASH, parseApiKey, TenantRepository, verifyApiKeySecret, type ApiKey } from '@mailwarden/db';
import { RateLimiter } from './rate-limiter';

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
/** Failed tries from one client address for one key prefix per minute before that pair is throttled. */
export const MAX_FAILED_VERIFICATIONS_PER_MINUTE = 10;

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
 * Failures are counted per client address and key prefix, and per client address alone (every failed or missing
 * authentication: API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE). Past either limit the address is throttled: its
 * failures answer 429, and its checks run one at a time per process (a throttled try that finds another one
 * running is refused without hashing), so it cannot burn more than one scrypt at a time. The right secret still
 * passes, even from a throttled address: knowing a prefix (read-only keys and the audit log show them) no longer
 * locks the key's owner out.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly verified = new Map<string, VerifiedSecret>();
  private readonly unauthenticatedLimit: number;
  private throttledCheckRunning = false;

  constructor(
    private readonly tenants: TenantRepository,
    private readonly rateLimiter: RateLimiter,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.unauthenticatedLimit = config.API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE;
  }

  /** The scrypt comparison; a member so that tests can see which hash a refusal was checked against. */
  verifySecret(secret: string, storedHash: string): Promise<boolean> {
    return verifyApiKeySecret(secret, storedHash);
  }

  /** `plaintext` is the bearer token, or null when the request carried none. */
  async authenticate(plaintext: string | null, clientAddress: string, now = Date.now()): Promise<AuthOutcome> {
    const addressBucket = `unauthenticated:${clientAddress}`;
    const parsed = plaintext === null ? null : parseApiKey(plaintext);
    if (!parsed) {
      return this.refuse(addressBucket, null, plaintext === null ? 'missing' : 'malformed', now);
    }
    const key = await this.tenants.findApiKeyForAuth(parsed.prefix);
    const usable = key !== null && key.revokedAt === null;
    const digest = createHash('sha256').update(parsed.secret).digest();
    const cached = usable ? this.verified.get(key.id) : undefined;
    if (usable && cached && cached.expiresAt > now && cached.storedHash === key.hash && timingSafeEqual(cached.digest, digest)) {
      await this.tenants.recordApiKeyUse(key.id, new Date(now));
      return { ok: true, key };
    }
    if (key && !usable) {
      this.verified.delete(key.id);
    }

    const pairBucket = `auth-failures:${clientAddress}:${parsed.prefix}`;
    const throttle = await this.throttle(addressBucket, pairBucket, now);
    if (throttle && this.throttledCheckRunning) {
      return { ok: false, reason: 'too-many-failures', retryAfterSeconds: throttle.resetSeconds };
    }
    this.throttledCheckRunning ||= throttle !== null;
    let matches: boolean;
    try {
      matches = await this.verifySecret(parsed.secret, usable ? key.hash : DUMMY_API_KEY_HASH);
    } finally {
      if (throttle) {
        this.throttledCheckRunning = false;
      }
    }
    if (usable && matches) {
      if (this.verified.size >= CACHE_MAX_ENTRIES) {
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(key.id, { storedHash: key.hash, digest, expiresAt: now + CACHE_TTL_MS });
      await this.tenants.recordApiKeyUse(key.id, new Date(now));
      return { ok: true, key };
    }
    await this.rateLimiter.consume(pairBucket, now);
    return this.refuse(addressBucket, throttle, key === null ? 'unknown' : usable ? 'wrong-secret' : 'revoked', now);
  }

  /** Null when the address may try freely; else when its window ends. */
  private async throttle(addressBucket: string, pairBucket: string, now: number): Promise<{ resetSeconds: number } | null> {
    const [address, pair] = await Promise.all([this.rateLimiter.peek(addressBucket, now), this.rateLimiter.peek(pairBucket, now)]);
    if (address.count >= this.unauthenticatedLimit) {
      return address;
    }
    return pair.count >= MAX_FAILED_VERIFICATIONS_PER_MINUTE ? pair : null;
  }

  private async refuse(addressBucket: string, throttle: { resetSeconds: number } | null, reason: AuthFailure, now: number): Promise<AuthOutcome> {
    const counted = await this.rateLimiter.consume(addressBucket, now, this.unauthenticatedLimit);
    if (throttle || !counted.allowed) {
      return { ok: false, reason: 'too-many-failures', retryAfterSeconds: throttle?.resetSeconds ?? counted.resetSeconds };
    }
    return { ok: false, reason };
  }
}
