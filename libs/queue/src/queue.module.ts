import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { QUEUE_OPTIONS } from './queue.constants';
import { bullQueueSettings, type QueueOptions } from './redis-connection';
import { RedisHealthIndicator } from './redis.health';

/**
 * BullMQ wiring shared by every app. Default job options live here, in one place (Immich's pattern):
 * jobs retry with exponential back-off and failed jobs are kept for inspection.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10000 },
  removeOnFail: false,
} as const;

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueOptions): DynamicModule {
    return {
      module: QueueModule,
      imports: [
        BullModule.forRoot({
          // One server: ioredis options; a cluster (REDIS_CLUSTER_NODES): marked options and a hash-tagged prefix.
          ...bullQueueSettings(options),
          defaultJobOptions: DEFAULT_JOB_OPTIONS,
        }),
      ],
      providers: [{ provide: QUEUE_OPTIONS, useValue: options }, RedisHealthIndicator],
      exports: [QUEUE_OPTIONS, RedisHealthIndicator, BullModule],
    };
  }
}
