import { bullQueueSettings, parseClusterNodes, queuePrefix, redisOptionsFromUrl } from './redis-connection';

describe(redisOptionsFromUrl.name, () => {
  it('should read host, port and database from the URL', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2, tls: undefined });
  });

  it('should default the port and database and decode credentials', () => {
    expect(redisOptionsFromUrl('rediss://user:p%40ss@redis.example')).toMatchObject({
      host: 'redis.example',
      port: 6379,
      db: 0,
      username: 'user',
      password: 'p@ss',
      tls: {},
    });
  });

  it('should keep BullMQ workers waiting through outages rather than failing commands', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379').maxRetriesPerRequest).toBeNull();
  });
});

describe(parseClusterNodes.name, () => {
  it('should read host:port seed nodes, IPv6 in brackets, and nothing from an empty setting', () => {
    expect(parseClusterNodes('10.0.0.1:7000, redis-b.internal:7001,[::1]:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(parseClusterNodes('')).toEqual([]);
    expect(() => parseClusterNodes('redis-a.internal')).toThrow(/host:port/);
    expect(() => parseClusterNodes('redis-a.internal:70000')).toThrow(/host:port/);
  });

  it('should hash-tag the queue prefix on a cluster only, so every key of a BullMQ script shares one slot', () => {
    expect(queuePrefix({ redisUrl: 'redis://a', prefix: 'mw' })).toBe('mw');
    expect(queuePrefix({ redisUrl: 'redis://a', prefix: 'mw', clusterNodes: 'a:7000' })).toBe('{mw}');
    expect(bullQueueSettings({ redisUrl: 'redis://a/3', prefix: 'mw' })).toMatchObject({ prefix: 'mw', connection: { host: 'a', db: 3 } });
  });
});
