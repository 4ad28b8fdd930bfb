import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { loadConfig } from '@mailwarden/config';
import { MimecastService } from '@mailwarden/mimecast';
import { mimecastPollSchedulerId, QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { appTestEnv, createTestDatabase, createTestRedis, freePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createScanner } from '../scanner.app';

describe('scanner worker role: Mimecast polls', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let queue: Queue;
  const apps: INestApplication[] = [];

  const start = async (secretsKey: string) => {
    // A poll against the closed port below fails at once instead of backing off for a minute.
    const app = await createScanner(
      loadConfig('scanner', await appTestEnv(db, redis, {
        SCANNER_ROLE: 'worker',
        SECRETS_KEY: secretsKey,
      })),
      false,
      { mimecastClient: { maxRetries: 0 } },
    );
    await app.init();
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    queue = new Queue(QueueName.MimecastPoll, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await queue?.close();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should run without integrations when SECRETS_KEY is empty', async () => {
    const app = await start('');
    expect(await queue.getWorkers()).toHaveLength(0);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  it('should re-create every enabled connection’s poll schedule at start (e.g. after Redis lost its keys)', async () => {
    const secretsKey = randomBytes(32).toString('base64');
    const account = await new TestFactories(db.prisma).newAccount();
    const first = await start(secretsKey);
    // A connection whose host refuses at once: 127.0.0.1 on a closed port (tests never leave the machine).
    await first.get(MimecastService).configureConnection(account.id, {
      apiVersion: 'V2',
      baseUrl: `https://127.0.0.1:${await freePort()}`,
      credentials: { clientId: 'id', clientSecret: 'secret' },
      pollIntervalSeconds: 3600,
    });
    const id = mimecastPollSchedulerId(account.id);
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toContain(id);

    await queue.removeJobScheduler(id);
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).not.toContain(id);
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    await start(secretsKey);
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toContain(id);
    expect((await queue.getWorkers()).length).toBeGreaterThan(0);
  });
});
