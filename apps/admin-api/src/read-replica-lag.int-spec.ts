import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { loadConfig } from '@mailwarden/config';
import { createPrismaClient, type Account, type PrismaClient } from '@mailwarden/db';
import { createTestRedis, listenOnFreePort, OwnPostgres, TestFactories, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from './admin-api.app';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_LAG_SECONDS = 1;

/**
 * DATABASE_READ_MAX_LAG_SECONDS against a real streaming replica (libs/testing OwnPostgres.startReplica): while the
 * standby's replay is paused and the primary commits, its lag grows past the bound; `/metrics` shows it
 * (`mailwarden_db_replica_lag_seconds`, `mailwarden_db_replica_fallback`) and history search and statistics read the
 * primary; once replay catches up they read the standby again.
 */
describe('admin API read replica lag: gauge and fallback to the primary', () => {
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
    return (await response.json()) as Record<string, unknown>;
  };
  const searchIds = async () => ((await get(`/v1/accounts/${account.id}/messages`)).items as Array<{ id: string }>).map((item) => item.id);
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
  const caughtUp = () => primary.waitForReplay(replica, 'mailwarden');

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
    key = (await factories.newApiKey({ name: 'replica-lag', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    const config = loadConfig('admin-api', {
      DATABASE_URL: primaryUrl,
      DATABASE_READ_URL: replica.url('mailwarden'),
      DATABASE_READ_MAX_LAG_SECONDS: String(MAX_LAG_SECONDS),
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LOG_LEVEL: 'fatal',
    });
    app = await createAdminApi(config, false);
    baseUrl = await listenOnFreePort(app);
  }, 120_000);

  afterAll(async () => {
    await standby?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await app?.close();
    await standby?.end();
    await prisma?.$disconnect();
    await redis?.cleanup();
    await replica?.destroy();
    await primary?.destroy();
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
      expect((await standby.query('SELECT count(*)::int AS n FROM "message"')).rows[0].n).toBe(1);
    } finally {
      await standby.query('SELECT pg_wal_replay_resume()');
    }

    await caughtUp();
    expect(await scrapeUntil((gauges) => gauges.fallback === 0)).toEqual({ lag: 0, bytes: 0, fallback: 0 });
    expect(await searchIds()).toHaveLength(2);
  });
});
