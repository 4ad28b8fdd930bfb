import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { loadConfig } from '@mailwarden/config';
import { createPrismaClient, type Account, type PrismaClient } from '@mailwarden/db';
import { createTestRedis, listenOnFreePort, OwnPostgres, TestFactories, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * DATABASE_READ_URL against a real streaming replica: a PostgreSQL cluster of the test's own, and a hot standby made
 * from it with pg_basebackup. With WAL replay paused on the standby, what the primary commits stays invisible to
 * history search and statistics (they read the standby) and visible to everything else (the primary); writes go
 * through, which they could not on the standby.
 */
describe('admin API reads from DATABASE_READ_URL (streaming replica)', () => {
  let primary: OwnPostgres;
  let replica: OwnPostgres;
  let redis: TestRedis;
  let prisma: PrismaClient;
  let standby: Client;
  let app: INestApplication;
  let baseUrl: string;
  let account: Account;
  let key: string;
  let factories: TestFactories;

  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const searchIds = async () => ((await get(`/v1/accounts/${account.id}/messages`)).body.items as Array<{ id: string }>).map((item) => item.id);
  const statisticsTotal = async () => (await get(`/v1/accounts/${account.id}/statistics`)).body.total as number;
  /** Until the standby has replayed everything the primary has committed so far. */
  const caughtUp = async () => {
    const [current] = await prisma.$queryRawUnsafe<Array<{ lsn: string }>>('SELECT pg_current_wal_lsn()::text AS lsn');
    for (let attempt = 0; attempt < 200; attempt++) {
      const replayed = await standby.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [current!.lsn]);
      if (replayed.rows[0]!.done) {
        return;
      }
      await pause(50);
    }
    throw new Error('the standby did not catch up');
  };
  const addStats = (count: number) =>
    prisma.statsHourly.create({
      data: { accountId: account.id, hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000), direction: 'INBOUND', decidedAction: 'DELIVER', appliedAction: 'NONE', failedCheck: '', shard: count, count },
    });

  beforeAll(async () => {
    primary = await OwnPostgres.start();
    const primaryUrl = await primary.createMigratedDatabase('mailwarden');
    replica = await primary.startReplica();
    redis = await createTestRedis();
    prisma = createPrismaClient({ databaseUrl: primaryUrl, poolSize: 2 });
    standby = new Client({ connectionString: replica.url('mailwarden') });
    await standby.connect();
    factories = new TestFactories(prisma);
    account = await factories.newAccount({ monitorOnly: true });
    key = (await new TestFactories(prisma).newApiKey({ name: 'replica', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    const config = loadConfig('admin-api', { DATABASE_URL: primaryUrl, DATABASE_READ_URL: replica.url('mailwarden'), REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'fatal' });
    app = await createAdminApi(config, false);
    baseUrl = await listenOnFreePort(app);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await standby?.end();
    await prisma?.$disconnect();
    await redis?.cleanup();
    await replica?.destroy();
    await primary?.destroy();
  });

  it('should serve a standby that refuses writes', async () => {
    const { rows } = await standby.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
    expect(rows[0]!.recovery).toBe(true);
    await expect(standby.query(`UPDATE "account" SET "name" = 'x' WHERE "id" = $1`, [account.id])).rejects.toThrow(/read-only transaction/);
  });

  it('should search history and count statistics on the replica, and read details and write on the primary', async () => {
    const first = await factories.newMessage(account);
    await addStats(1);
    await caughtUp();
    expect(await searchIds()).toEqual([first.id]);
    expect(await statisticsTotal()).toBe(1);

    await standby.query('SELECT pg_wal_replay_pause()');
    try {
      const second = await factories.newMessage(account);
      await addStats(2);
      // The primary has both; the replica, paused, does not: search and statistics show the replica's view.
      expect(await prisma.message.count({ where: { accountId: account.id } })).toBe(2);
      expect(await searchIds()).toEqual([first.id]);
      expect(await statisticsTotal()).toBe(1);
      // The message detail reads the primary: a link from a notification works at once.
      expect((await get(`/v1/accounts/${account.id}/messages/${second.id}`)).status).toBe(200);
      // A write through the API (audited in the same transaction) goes to the primary, which the replica would refuse.
      const patched = await fetch(`${baseUrl}/v1/accounts/${account.id}/journal`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ requireTls: true }),
      });
      expect(patched.status).toBe(200);
      expect((await prisma.account.findUniqueOrThrow({ where: { id: account.id } })).journalRequireTls).toBe(true);

      await standby.query('SELECT pg_wal_replay_resume()');
      await caughtUp();
      // Replay caught up: the message stored a moment ago appears in search a moment later.
      expect(await searchIds()).toEqual([second.id, first.id]);
      expect(await statisticsTotal()).toBe(3);
    } finally {
      await standby.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    }
  });
});
