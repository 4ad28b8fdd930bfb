import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import { createTestRedis, type TestRedis } from '@mailwarden/testing';
import { handle, MissingJobHandlerError } from './job-definition';
import { DEFAULT_JOB_OPTIONS, JobQueues } from './job-queue';
import { JobWorkers } from './job-workers';
import { DeliveryJob, DeliveryStatusJob } from './jobs/delivery.job';
import { ScanMessageJob } from './jobs/scan-message.job';
import { jobConsumersCheck, QueueModule } from './queue.module';
import { QueueName } from './queue-name';
import { bullQueueSettings } from './redis-connection';

describe(JobWorkers.name, () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await createTestRedis();
  });

  afterAll(async () => {
    await redis.cleanup();
  });

  it('should add jobs with their id and the shared defaults, and run each through its handler by name', async () => {
    const settings = bullQueueSettings({ redisUrl: redis.url, prefix: `${redis.prefix}-run` });
    const queues = new JobQueues(settings);
    const workers = new JobWorkers(settings);
    const seen: string[] = [];
    try {
      const delivery = await queues.add(DeliveryJob, { messageId: 'm1', recipients: ['a@x.example'], quarantineItemId: 'q1' });
      // Adding it again (a retried release) adds nothing: same id.
      const again = await queues.add(DeliveryJob, { messageId: 'm1', recipients: ['a@x.example'], quarantineItemId: 'q1' });
      const dsn = await queues.add(DeliveryStatusJob, { messageId: 'm1', recipients: ['a@x.example'] });
      expect([delivery.id, again.id, delivery.opts.attempts, delivery.opts.backoff]).toEqual(['release-q1', 'release-q1', DEFAULT_JOB_OPTIONS.attempts, DEFAULT_JOB_OPTIONS.backoff]);
      const done = new Promise<void>((resolve) => {
        workers.start(QueueName.Delivery, [
          handle(DeliveryJob, async (job: Job) => void seen.push(`deliver ${job.id}`)),
          handle(DeliveryStatusJob, async (job: Job) => {
            seen.push(`dsn ${job.id}`);
            resolve();
          }),
        ]);
      });
      await done;
      expect(seen).toEqual(['deliver release-q1', `dsn ${dsn.id}`]);
      expect(workers.consumed()).toEqual([QueueName.Delivery]);
      expect(() => workers.start(QueueName.Delivery, [handle(DeliveryJob, async () => 1), handle(DeliveryStatusJob, async () => 1)])).toThrow(/already has a worker/);
    } finally {
      await workers.close();
      await queues.close();
    }
  });

  it('should fail the app startup when a queue its role consumes has no worker, and start when it has one', async () => {
    const options = { redisUrl: redis.url, prefix: `${redis.prefix}-boot` };
    @Module({ imports: [QueueModule.forRoot(options)], providers: jobConsumersCheck('SCANNER_ROLE=worker', [QueueName.Scan]) })
    class WithoutWorker {}
    await expect(NestFactory.createApplicationContext(WithoutWorker, { logger: false, abortOnError: false })).rejects.toThrow(
      new MissingJobHandlerError('SCANNER_ROLE=worker consumes queue "scan" but no handler was started for it'),
    );

    @Module({})
    class ScanConsumerModule {
      constructor(private readonly workers: JobWorkers) {}

      onApplicationBootstrap(): void {
        this.workers.start(QueueName.Scan, [handle(ScanMessageJob, async () => 'scanned')]);
      }
    }
    @Module({ imports: [QueueModule.forRoot(options), ScanConsumerModule], providers: jobConsumersCheck('SCANNER_ROLE=worker', [QueueName.Scan]) })
    class WithWorker {}
    const app = await NestFactory.createApplicationContext(WithWorker, { logger: false, abortOnError: false });
    expect(app.get(JobWorkers).consumed()).toEqual([QueueName.Scan]);
    await app.close();
  });
});
