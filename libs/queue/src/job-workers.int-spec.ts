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

  it('should add a later run of a job whose id a finished job still holds, and keep one that is waiting', async () => {
    const settings = bullQueueSettings({ redisUrl: redis.url, prefix: `${redis.prefix}-later` });
    const queues = new JobQueues(settings);
    const workers = new JobWorkers(settings);
    const runs: Array<{ id: string | undefined; recipients: string[] }> = [];
    let ran: () => void = () => undefined;
    try {
      workers.start(QueueName.Delivery, [
        handle(DeliveryJob, async (job: Job) => {
          runs.push({ id: job.id, recipients: (job.data as { recipients: string[] }).recipients });
          ran();
        }),
        handle(DeliveryStatusJob, async () => undefined),
      ]);
      const ranOnce = () => new Promise<void>((resolve) => (ran = resolve));
      let next = ranOnce();
      const first = await queues.add(DeliveryJob, { messageId: 'm2', recipients: ['a@x.example', 'b@x.example'] });
      await next;
      while (!(await first.isCompleted())) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // A deferred copy of the same message later on (the gateway's in-process run): the completed job kept for 24 h
      // holds the id, and without replacing it BullMQ would add nothing and the copy would wait for the sweeper.
      next = ranOnce();
      const later = await queues.get(QueueName.Delivery).addLater(DeliveryJob, { messageId: 'm2', recipients: ['b@x.example'] }, 50);
      await next;
      expect(runs).toEqual([
        { id: 'm2', recipients: ['a@x.example', 'b@x.example'] },
        { id: 'm2', recipients: ['b@x.example'] },
      ]);
      expect(later.opts.delay).toBe(50);
      // A job still waiting for its turn is kept as it is (one schedule): the second add returns it.
      const waiting = await queues.get(QueueName.Delivery).addLater(DeliveryJob, { messageId: 'm3', recipients: ['c@x.example'] }, 60_000);
      const again = await queues.get(QueueName.Delivery).addLater(DeliveryJob, { messageId: 'm3', recipients: ['d@x.example'] }, 10);
      const kept = await queues.get(QueueName.Delivery).queue.getJob('m3');
      expect([again.id, kept?.data.recipients, await kept?.getState(), kept?.timestamp]).toEqual([waiting.id, ['c@x.example'], 'delayed', waiting.timestamp]);
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
