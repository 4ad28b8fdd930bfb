import type { RedisOptions } from 'ioredis';

export interface QueueOptions {
  redisUrl: string;
  /** Key prefix of every queue (BullMQ `prefix`): lets several deployments or test files share one Redis. */
  prefix: string;
}

/**
 * ioredis options from a redis:// or rediss:// URL. BullMQ gets options rather than a client, so that it
 * owns (and closes) every connection it opens when the app shuts down.
 */
export function redisOptionsFromUrl(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '');
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db ? Number(db) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  };
}
