import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { QUEUE_OPTIONS } from './queue.constants';
import { createRedisClient, type QueueOptions } from './redis-connection';

/** /health check for Redis (implements HealthIndicator of @mailwarden/observability). */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  readonly name = 'redis';
  private readonly client: Redis | Cluster;

  constructor(@Inject(QUEUE_OPTIONS) options: QueueOptions) {
    // Fails fast while Redis is down (no offline queue), reconnects on its own when it is back.
    this.client = createRedisClient(options, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.client.on('error', () => undefined); // reported through check(), not as an unhandled event
  }

  async check(): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') {
      await this.client.connect();
    }
    if (this.client.status !== 'ready') {
      throw new Error(`redis connection is ${this.client.status}`);
    }
    await this.client.ping();
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
