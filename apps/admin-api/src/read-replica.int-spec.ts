import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { loadConfig } from '@mailwarden/config';
import { createPrismaClient, type Account, type PrismaClient } from '@mailwarden/db';
import { createTestRedis, listenOnFreePort, OwnPostgres, TestFactories, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_LAG_SECONDS = 1;

/**
 * DATABASE_READ_URL against a real streaming replica: a PostgreSQL cluster of the test's own, and a hot standby made
 * from it with pg_basebackup (libs/testing OwnPostgres.startReplica), shared by both parts:
 * - with WAL replay paused on the standby, what the primary commits stays invisible to history search and statistics
 *   (they read the standby) and visible to everything else (the primary); writes go through, which they could not on
 *   the standby (the default lag bound, 30 s, is not reached);
 * - DATABASE_READ_MAX_LAG_SECONDS (a second admin API with a 1 s bound, its own tenant): while replay is paused and the
 *   primary commits, the lag grows past the bound; `/metrics` shows it (`mailwarden_db_replica_lag_seconds`,
 *   `mailwarden_db_replica_fallback`) and history search and statistics read the primary; once replay catches up they
 *   read the standby again.
 */
describe('admin API reads from DATABASE_READ_URL (streaming replica)', () => {
  let primary: OwnPostgres;
  let replica: OwnPostgres;
  let primaryUrl: string;
  let redis: TestRedis;
  let prisma: PrismaClient;
  let standby: Client;
  let factories: TestFactories;

  /** An admin API on the primary and the replica, with one tenant and its key. */
  const startApi = async (env: Record<string, string> = {}) => {
    const account = await factories.newAccount({ monitorOnly: true });
    const key = (await factories.newApiKey({ name: 'replica', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    const config = loadConfig('admin-api', { DATABASE_URL: primaryUrl, DATABASE_READ_URL: replica.url('mailwarden'), REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'fatal', ...env });
    const app = await createAdminApi(config, false);
    const baseUrl = await listenOnFreePort(app);
    const get = async (path: string) => {
      const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const searchIds = async () => ((await get(`/v1/accounts/${account.id}/messages`)).body.items as Array<{ id: string }>).map((item) => item.id);
    return { app, baseUrl, account, key, get, searchIds };
  };
  /** Until the standby has replayed everything the primary has flushed so far. */
  const caughtUp = () => primary.waitForReplay(replica, 'mailwarden');

  beforeAll(async () => {
    primary = await OwnPostgres.start();
    primaryUrl = await primary.createMigratedDatabase('mailwarden');
    replica = await primary.startReplica();
    redis = await createTestRedis();
    prisma = createPrismaClient({ databaseUrl: primaryUrl, poolSize: 2 });
    standby = new Client({ connectionString: replica.url('mailwarden') });
    await standby.connect();
    factories = new TestFactories(prisma);
  }, 120_000);

  afterAll(async () => {
    await standby?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await standby?.end();
    await prisma?.$disconnect();
    await redis?.cleanup();
    await replica?.destroy();
    await primary?.destroy();
  });

  describe('history search and statistics on the replica', () => {
    let app: INestApplication;
    let baseUrl: string;
    let account: Account;
    let key: string;
    let get: Awaited<ReturnType<typeof startApi>>['get'];
    let searchIds: () => Promise<string[]>;
    const statisticsTotal = async () => (await get(`/v1/accounts/${account.id}/statistics`)).body.total as number;
    const addStats = (count: number) =>
      prisma.statsHourly.create({
        data: { accountId: account.id, hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000), direction: 'INBOUND', decidedAction: 'DELIVER', appliedAction: 'NONE', failedCheck: '', shard: count, count },
      });

    beforeAll(async () => {
      ({ app, baseUrl, account, key, get, searchIds } = await startApi());
    });

    afterAll(async () => {
      await app?.close();
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

  describe('DATABASE_READ_MAX_LAG_SECONDS: gauge and fallback to the primary', () => {
    let app: INestApplication;
    let baseUrl: string;
    let account: Account;
    let searchIds: () => Promise<string[]>;
    /** The replica gauges of one scrape (each scrape measures the lag anew). */
    const scrape = async () => {
      const text = await (await fetch(`${baseUrl}/metrics`)).text();
      const value = (name: string) => {
        const line = text.split('\n').find((entry) => entry.startsWith(`${name}{`) || entry.startsWith(`${name} `));
        return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      return { lag: value('mailwarden_db_replica_lag_seconds'), bytes: value('mailwarden_db_replica_lag_bytes'), fallback: value('mailwarden_db_replica_fallback') };
    };
    /** Scrapes until `done` holds (at most 100 scrapes, 100 ms apart); returns the last scrape. */
    const scrapeUntil = async (done: (gauges: Awaited<ReturnType<typeof scrape>>) => boolean) => {
      let gauges = await scrape();
      for (let attempt = 0; attempt < 100 && !done(gauges); attempt++) {
        await pause(100);
        gauges = await scrape();
      }
      return gauges;
    };

    beforeAll(async () => {
      ({ app, baseUrl, account, searchIds } = await startApi({ DATABASE_READ_MAX_LAG_SECONDS: String(MAX_LAG_SECONDS) }));
    });

    afterAll(async () => {
      await app?.close();
    });

    it('should read the replica while it keeps up, the primary while it lags past the bound, and say so in /metrics', async () => {
      const first = await factories.newMessage(account);
      await caughtUp();
      // Caught up (a write of the primary's own, e.g. autovacuum, may need a moment to replay).
      expect(await scrapeUntil((gauges) => gauges.fallback === 0)).toEqual({ lag: 0, bytes: 0, fallback: 0 });
      expect(await searchIds()).toEqual([first.id]);

      await standby.query('SELECT pg_wal_replay_pause()');
      try {
        const second = await factories.newMessage(account);
        // The standby has not replayed the second message: its lag grows from the last transaction it replayed.
        const lagging = await scrapeUntil((gauges) => gauges.lag! > MAX_LAG_SECONDS);
        expect(lagging).toEqual({ lag: expect.any(Number), bytes: expect.any(Number), fallback: 1 });
        expect(lagging.lag).toBeGreaterThan(MAX_LAG_SECONDS);
        expect(lagging.bytes).toBeGreaterThan(0);
        // Past the bound, search reads the primary: the second message is there although the standby lacks it.
        expect(await searchIds()).toEqual([second.id, first.id]);
        expect((await standby.query('SELECT count(*)::int AS n FROM "message" WHERE "account_id" = $1', [account.id])).rows[0].n).toBe(1);
      } finally {
        await standby.query('SELECT pg_wal_replay_resume()');
      }

      await caughtUp();
      expect(await scrapeUntil((gauges) => gauges.fallback === 0)).toEqual({ lag: 0, bytes: 0, fallback: 0 });
      expect(await searchIds()).toHaveLength(2);
    });
  });
});
