import { Redis } from 'ioredis';
import { TEST_REDIS_URL, uniqueName } from './test-env';

export interface TestRedis {
  url: string;
  /** Key prefix for this test file: pass it as BullMQ's `prefix` and to anything else that writes keys. */
  prefix: string;
  client: Redis;
  /** Deletes every key under this file's prefix (and nothing else), then disconnects. */
  cleanup(): Promise<void>;
}

export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) {
      deleted += await client.del(...keys);
    }
  } while (cursor !== '0');
  return deleted;
}

export async function createTestRedis(): Promise<TestRedis> {
  const prefix = uniqueName('mw-test');
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`integration tests need Redis at ${TEST_REDIS_URL} (${(error as Error).message})`);
  }
  return {
    url: TEST_REDIS_URL,
    prefix,
    client,
    async cleanup() {
      await deleteKeysWithPrefix(client, prefix);
      client.disconnect();
    },
  };
}
