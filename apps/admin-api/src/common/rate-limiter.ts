import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { createRedisClient, queueOptionsFromConfig } from '@mailwarden/queue';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
}

const WINDOW_SECONDS = 60;

/**
 * Fixed one-minute windows per API key in Redis (`<prefix>:ratelimit:<bucket>:<window>`, INCR + EXPIRE in one
 * MULTI), shared by every admin API instance. A burst at a window's edge can reach twice the limit over 60 s;
 * the simpler count is worth that for an admin API.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly redis: Redis | Cluster;
  private readonly limit: number;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AdminApiConfig) {
    // A request never waits on Redis for long: a command fails after 2 s and the guard answers 503. On a Redis
    // Cluster each window is one key, so its MULTI (INCR + EXPIRE) stays within one slot.
    this.redis = createRedisClient(queueOptionsFromConfig(config), { maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: true });
    this.redis.on('error', () => undefined); // a failed command is reported by consume()
    this.limit = config.API_RATE_LIMIT_PER_MINUTE;
    this.prefix = config.REDIS_PREFIX;
  }

  /** Counts one request in the bucket's current window (against `limit`, default API_RATE_LIMIT_PER_MINUTE). */
  async consume(bucket: string, nowMs = Date.now(), limit = this.limit): Promise<RateDecision> {
    const { redisKey, resetSeconds } = this.window(bucket, nowMs);
    const results = await this.redis.multi().incr(redisKey).expire(redisKey, WINDOW_SECONDS * 2).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds };
  }

  /** The bucket's count in the current window, without counting. */
  async peek(bucket: string, nowMs = Date.now()): Promise<{ count: number; resetSeconds: number }> {
    const { redisKey, resetSeconds } = this.window(bucket, nowMs);
    return { count: Number((await this.redis.get(redisKey)) ?? 0), resetSeconds };
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }

  private window(bucket: string, nowMs: number): { redisKey: string; resetSeconds: number } {
    const window = Math.floor(nowMs / 1000 / WINDOW_SECONDS);
    return {
      redisKey: `${this.prefix}:ratelimit:${bucket}:${window}`,
      resetSeconds: Math.max(1, (window + 1) * WINDOW_SECONDS - Math.floor(nowMs / 1000)),
    };
  }
}
