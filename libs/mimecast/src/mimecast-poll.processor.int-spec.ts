import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ThirdPartyAlertRepository, type PrismaService } from '@mailwarden/db';
import { createTestDatabase, FakeMimecastServer, createTestRedis, freePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { DATASET_TOTALS, loadDataset } from '../test/mimecast-dataset';
import { JobQueues, JobWorkers, mimecastPollSchedulerId, QueueName } from '@mailwarden/queue';
import { mimecastPollHandlers, MimecastPollScheduler } from './mimecast-poll.processor';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import type { MimecastModuleOptions } from './mimecast.options';

const V2 = { clientId: 'client-1', clientSecret: 'secret-1' };

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe(MimecastPollScheduler.name, () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let connection: Redis;
  let server: FakeMimecastServer;
  let queues: JobQueues;
  let scheduler: MimecastPollScheduler;
  let service: MimecastService;
  let poller: MimecastPollerService;
  let factories: TestFactories;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    server = new FakeMimecastServer({ v2: V2 });
    await server.start(await freePort());
    loadDataset(server);
    const repository = new ThirdPartyAlertRepository(db.prisma as unknown as PrismaService);
    const options: MimecastModuleOptions = {
      secretsKey: randomBytes(32).toString('base64'),
      allowHttpBaseUrl: true,
      pageSize: 50,
      initialLookbackMs: 4 * 365 * 24 * 3600_000,
      settleMs: 0,
      now: () => new Date('2024-11-18T00:00:00Z'),
    };
    poller = new MimecastPollerService(repository, options);
    queues = new JobQueues({ connection, prefix: redis.prefix });
    scheduler = new MimecastPollScheduler(queues);
    service = new MimecastService(repository, poller, options, scheduler);
    factories = new TestFactories(db.prisma);
  });

  afterAll(async () => {
    await scheduler.queue.obliterate({ force: true });
    await queues.close();
    connection.disconnect();
    await redis.cleanup();
    await server.stop();
    await db.drop();
  });

  it('should keep one scheduler per account and run its poll in a worker', async () => {
    const account = await factories.newAccount();
    const view = await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2, pollIntervalSeconds: 3600 });
    // Configuring again replaces the schedule instead of adding one.
    await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2, pollIntervalSeconds: 1800 });

    const schedulers = await scheduler.queue.getJobSchedulers();
    expect(schedulers.map((entry) => [entry.key, entry.every])).toEqual([[mimecastPollSchedulerId(account.id), 1_800_000]]);

    const workers = new JobWorkers({ connection, prefix: redis.prefix });
    workers.start(QueueName.MimecastPoll, mimecastPollHandlers(poller), { concurrency: 2 });
    try {
      const runs = await waitFor(
        () => service.listPollRuns(account.id),
        (list) => list.some((run) => run.outcome === 'SUCCEEDED'),
      );
      expect(runs.find((run) => run.outcome === 'SUCCEEDED')).toMatchObject({ stored: DATASET_TOTALS.stored });
      expect((await service.listAlerts(account.id, {}, { limit: 200 })).items).toHaveLength(DATASET_TOTALS.stored);
      expect(view.accountId).toBe(account.id);
    } finally {
      await workers.close();
    }
  });

  it('should re-create lost schedules and drop the schedule of a removed connection', async () => {
    const account = await factories.newAccount();
    await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 });
    await scheduler.unschedule(account.id);
    expect((await scheduler.queue.getJobSchedulers()).map((entry) => entry.key)).not.toContain(mimecastPollSchedulerId(account.id));

    expect(await service.syncSchedules()).toBeGreaterThanOrEqual(1);
    expect((await scheduler.queue.getJobSchedulers()).map((entry) => entry.key)).toContain(mimecastPollSchedulerId(account.id));

    expect(await service.removeConnection(account.id)).toBe(true);
    expect((await scheduler.queue.getJobSchedulers()).map((entry) => entry.key)).not.toContain(mimecastPollSchedulerId(account.id));
    expect(await service.getConnection(account.id)).toBeNull();
    expect(await service.removeConnection(account.id)).toBe(false);
  });

  it('should remove the schedule of a disabled connection', async () => {
    const account = await factories.newAccount();
    await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2 });
    expect((await scheduler.queue.getJobSchedulers()).map((entry) => entry.key)).toContain(mimecastPollSchedulerId(account.id));

    await service.configureConnection(account.id, { apiVersion: 'V2', baseUrl: server.baseUrl, credentials: V2, enabled: false });

    expect((await scheduler.queue.getJobSchedulers()).map((entry) => entry.key)).not.toContain(mimecastPollSchedulerId(account.id));
  });
});
