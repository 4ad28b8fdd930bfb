import { loadConfig } from '@mailwarden/config';
import { OwnRedisCluster, redisServerAvailable } from '@mailwarden/testing';
import { RateLimiter } from './rate-limiter';

const available = redisServerAvailable();

/** The admin API's per-key limit shared by every instance, on a real local three-master Redis Cluster (issue 20). */
(available ? describe : describe.skip)('RateLimiter on a Redis Cluster', () => {
  let cluster: OwnRedisCluster;
  let limiter: RateLimiter;

  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
    limiter = new RateLimiter(loadConfig('admin-api', { REDIS_URL: cluster.url, REDIS_PREFIX: 'mw-limit', REDIS_CLUSTER_NODES: cluster.nodes, API_RATE_LIMIT_PER_MINUTE: '3' }));
  }, 90_000);

  afterAll(async () => {
    limiter?.onModuleDestroy();
    await cluster?.destroy();
  });

  it('should count each key in its own window wherever its slot lives, and refuse the request over the limit', async () => {
    const now = Date.UTC(2026, 11, 5, 12, 0, 10);
    const buckets = Array.from({ length: 12 }, (_, index) => `key-${index}`);
    for (const bucket of buckets) {
      const decisions = [];
      for (let request = 0; request < 4; request++) decisions.push(await limiter.consume(bucket, now));
      expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
      expect(await limiter.peek(bucket, now)).toMatchObject({ count: 4 });
    }
    // The windows are spread over more than one master (one MULTI each, INCR + EXPIRE of one key), and they expire.
    const perMaster = await Promise.all(cluster.ports.map(async (port) => Number(await cluster.cli(port, 'DBSIZE'))));
    expect(perMaster.reduce((sum, count) => sum + count, 0)).toBe(buckets.length);
    expect(perMaster.filter((count) => count > 0).length).toBeGreaterThan(1);
    const key = (await Promise.all(cluster.ports.map((port) => cluster.cli(port, '--scan', '--pattern', 'mw-limit:ratelimit:*')))).flatMap((out) => out.split('\n').filter(Boolean))[0]!;
    const ttl = Number(await cluster.cli(cluster.ports[0]!, '-c', 'TTL', key));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
    // The next window starts from zero.
    expect(await limiter.consume('key-0', now + 60_000)).toMatchObject({ allowed: true, remaining: 2 });
  }, 60_000);
});

if (!available) {
  describe('RateLimiter on a Redis Cluster', () => {
    it.skip('is skipped: redis-server / redis-cli are missing on this machine (apt-get install redis-server)', () => undefined);
  });
}
