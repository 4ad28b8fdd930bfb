import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { RateLimiter } from './rate-limiter';

/** Failed tries from one client address for one name (key prefix, email) per minute before that pair is throttled. */
export const MAX_FAILED_VERIFICATIONS_PER_MINUTE = 10;

export interface Throttle {
  /** Seconds until the window that throttles ends. */
  resetSeconds: number;
}

/**
 * The brute-force brake shared by API keys and password sign-in: failures are counted per client address and
 * name (`<kind>:<address>:<name>`, at most MAX_FAILED_VERIFICATIONS_PER_MINUTE) and per client address alone (every
 * failed or missing authentication: API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE), in the shared Redis windows of
 * RateLimiter. Past either limit the address is throttled. While throttled, expensive checks (scrypt) run one at
 * a time per process: a throttled try that finds another one running is refused without hashing.
 */
@Injectable()
export class AuthFailureThrottle {
  private readonly unauthenticatedLimit: number;
  private throttledCheckRunning = false;

  constructor(
    private readonly rateLimiter: RateLimiter,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.unauthenticatedLimit = config.API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE;
  }

  private static addressBucket(clientAddress: string): string {
    return `unauthenticated:${clientAddress}`;
  }

  /** Null when the address may try this name freely; else when its window ends. */
  async throttle(clientAddress: string, pairBucket: string, now: number): Promise<Throttle | null> {
    const [address, pair] = await Promise.all([
      this.rateLimiter.peek(AuthFailureThrottle.addressBucket(clientAddress), now),
      this.rateLimiter.peek(pairBucket, now),
    ]);
    if (address.count >= this.unauthenticatedLimit) {
      return address;
    }
    return pair.count >= MAX_FAILED_VERIFICATIONS_PER_MINUTE ? pair : null;
  }

  /**
   * Runs an expensive check. Under a throttle only one runs at a time in this process: `null` when another
   * throttled check is running (the caller refuses without checking).
   */
  async serialised<T>(throttle: Throttle | null, check: () => Promise<T>): Promise<{ value: T } | null> {
    if (throttle && this.throttledCheckRunning) {
      return null;
    }
    this.throttledCheckRunning ||= throttle !== null;
    try {
      return { value: await check() };
    } finally {
      if (throttle) {
        this.throttledCheckRunning = false;
      }
    }
  }

  /** Counts a failed verification of a name from the address (the pair's window). */
  async countPairFailure(pairBucket: string, now: number): Promise<void> {
    await this.rateLimiter.consume(pairBucket, now);
  }

  /**
   * Counts a refused or missing authentication against the address; the retry delay when the address is (or has
   * just become) throttled, else null.
   */
  async countRefusal(clientAddress: string, throttle: Throttle | null, now: number): Promise<number | null> {
    const counted = await this.rateLimiter.consume(AuthFailureThrottle.addressBucket(clientAddress), now, this.unauthenticatedLimit);
    if (throttle || !counted.allowed) {
      return throttle?.resetSeconds ?? counted.resetSeconds;
    }
    return null;
  }
}
