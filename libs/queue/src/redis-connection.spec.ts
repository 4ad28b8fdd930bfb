import { redisOptionsFromUrl } from './redis-connection';

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
