import { type DynamicModule, Global, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { JobQueues } from './job-queue';
import { JobWorkers } from './job-workers';
import { QUEUE_OPTIONS } from './queue.constants';
import { QueueName } from './queue-name';
import { bullQueueSettings, type QueueOptions } from './redis-connection';
import { RedisHealthIndicator } from './redis.health';

/** Closes the app's workers (first) and queues when it shuts down; global, so after every other module's hooks. */
class QueueLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly queues: JobQueues,
    private readonly workers: JobWorkers,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.workers.close();
    await this.queues.close();
  }
}

/**
 * BullMQ wiring shared by every app: one JobQueues (producers) and one JobWorkers (consumers) per app, on the app's
 * connection (one server, or a Redis Cluster with its hash-tagged prefix) and with DEFAULT_JOB_OPTIONS.
 */
@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueOptions): DynamicModule {
    const settings = bullQueueSettings(options);
    return {
      module: QueueModule,
      providers: [
        { provide: QUEUE_OPTIONS, useValue: options },
        { provide: JobQueues, useFactory: () => new JobQueues(settings) },
        { provide: JobWorkers, useFactory: () => new JobWorkers(settings) },
        { provide: QueueLifecycle, useFactory: (queues: JobQueues, workers: JobWorkers) => new QueueLifecycle(queues, workers), inject: [JobQueues, JobWorkers] },
        RedisHealthIndicator,
      ],
      exports: [QUEUE_OPTIONS, RedisHealthIndicator, JobQueues, JobWorkers],
    };
  }
}

export const JOB_CONSUMERS = Symbol('JOB_CONSUMERS');

/** Fails the app's startup when a queue its role consumes has no worker (see jobConsumersCheck). */
class JobConsumersCheck implements OnApplicationBootstrap {
  constructor(
    private readonly workers: JobWorkers,
    private readonly consumers: { role: string; queues: readonly QueueName[] },
  ) {}

  onApplicationBootstrap(): void {
    this.workers.assertConsuming(this.consumers.queues, this.consumers.role);
  }
}

/**
 * Providers for the app's root module: at startup (after every imported module started its workers, since Nest
 * runs the root module's hooks last) the app fails with MissingJobHandlerError if one of `queues` has no worker.
 */
export function jobConsumersCheck(role: string, queues: readonly QueueName[]): Provider[] {
  return [
    { provide: JOB_CONSUMERS, useValue: { role, queues } },
    { provide: JobConsumersCheck, useFactory: (workers: JobWorkers, consumers: { role: string; queues: readonly QueueName[] }) => new JobConsumersCheck(workers, consumers), inject: [JobWorkers, JOB_CONSUMERS] },
  ];
}
