import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { OwnRedisCluster, redisServerAvailable } from '@mailwarden/testing';
import { QueueName } from './queue-name';
import { bullQueueSettings, createRedisClient, queuePrefix, type QueueOptions } from './redis-connection';
import { RedisHealthIndicator } from './redis.health';

const available = redisServerAvailable();

/**
 * BullMQ and Mailwarden's own Redis uses on a real local three-master Redis Cluster (started and removed here).
 * Skipped only when redis-server / redis-cli are not installed, and then the skipped test's name says so.
 */
(available ? describe : describe.skip)('Redis Cluster (three local masters)', () => {
  let cluster: OwnRedisCluster;
  let options: QueueOptions;

  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
    options = { redisUrl: cluster.url, prefix: 'mw-cluster-test', clusterNodes: cluster.nodes };
  }, 90_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('should run a job through every queue of the apps, each queue hash-tagged into one slot', async () => {
    const settings = bullQueueSettings(options);
    expect(settings.prefix).toBe('{mw-cluster-test}');
    for (const name of Object.values(QueueName)) {
      const queue = new Queue(name, settings);
      const processed: string[] = [];
      const worker = new Worker(name, async (job) => void processed.push(job.data.id), { ...settings, concurrency: 2 });
      try {
        await queue.addBulk([1, 2, 3].map((index) => ({ name: 'job', data: { id: `${name}-${index}` }, opts: { jobId: `${name}-${index}` } })));
        // A repeated id is refused as a duplicate across the cluster too (the scan queue's job id is the message id).
        await queue.add('job', { id: `${name}-1` }, { jobId: `${name}-1` });
        const deadline = Date.now() + 20_000;
        while ((await queue.getCompletedCount()) < 3 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(processed.sort()).toEqual([`${name}-1`, `${name}-2`, `${name}-3`]);
      } finally {
        await worker.close();
        await queue.close();
      }
    }
    // Every BullMQ key, whichever master holds it, hashes to the slot of the tag.
    const tagSlot = await cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', '{mw-cluster-test}');
    const keys = (await Promise.all(cluster.ports.map((port) => cluster.cli(port, '--scan', '--pattern', '{mw-cluster-test}:*')))).flatMap((out) => out.split('\n').filter(Boolean));
    expect(keys.length).toBeGreaterThan(Object.values(QueueName).length);
    const slots = new Set(await Promise.all(keys.slice(0, 20).map((key) => cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', key))));
    expect([...slots]).toEqual([tagSlot]);
  }, 120_000);

  it('should need the hash tag: the same queue with a plain prefix fails with CROSSSLOT', async () => {
    const plain = { ...bullQueueSettings(options), prefix: 'mw-plain' };
    const queue = new Queue(QueueName.Scan, plain);
    try {
      await expect(queue.add('job', { id: 'x' })).rejects.toThrow(/CROSSSLOT|same slot/i);
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('should run scheduled jobs (job schedulers of the Mimecast polls and exports) on the cluster', async () => {
    const settings = bullQueueSettings(options);
    const queue = new Queue(QueueName.Export, settings);
    let runs = 0;
    const worker = new Worker(QueueName.Export, async () => void runs++, settings);
    try {
      await queue.upsertJobScheduler('destination-1', { every: 300 }, { name: 'export', data: {} });
      const deadline = Date.now() + 20_000;
      while (runs < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(runs).toBeGreaterThanOrEqual(2);
      expect(await queue.removeJobScheduler('destination-1')).toBe(true);
    } finally {
      await worker.close();
      await queue.close();
    }
  }, 60_000);

  it('should give the apps a Cluster client for their own keys (spread over the masters) and a health check that passes on it', async () => {
    const client = createRedisClient(options);
    try {
      expect(client).toBeInstanceOf(Cluster);
      // Keys of different slots, each written through its own master (a single-server client would get MOVED).
      for (let index = 0; index < 30; index++) {
        await client.set(`${queuePrefix(options)}-own:${index}`, String(index), 'EX', 60);
      }
      const perMaster = await Promise.all(cluster.ports.map(async (port) => Number(await cluster.cli(port, 'DBSIZE'))));
      expect(perMaster.filter((count) => count > 0).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }
    const health = new RedisHealthIndicator(options);
    try {
      await expect(health.check()).resolves.toBeUndefined();
    } finally {
      health.onModuleDestroy();
    }
  }, 60_000);
});

if (!available) {
  describe('Redis Cluster', () => {
    it.skip('is skipped: redis-server / redis-cli are missing on this machine (apt-get install redis-server)', () => undefined);
  });
}
