import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '@mailwarden/config';
import { AccountRepository, AuditRepository, createPrismaClient, ensureDatabase, migrate, quoteIdentifier, splitDatabaseUrl, type PrismaClient, type PrismaService } from '@mailwarden/db';
import { redisOptionsFromUrl } from '@mailwarden/queue';
import { DEMO_DOMAIN, seedDemo } from '../db/seed';
import { enableStatementStatistics } from './pg-statements';

export const JOURNAL_DOMAIN = 'journal.bench.test';
export const GATEWAY_DOMAIN = 'gateway.bench.test';
/** Recipients of journal copies: a verified domain of the journal account, so the copies are inbound mail. */
export const JOURNAL_RECIPIENT_DOMAIN = DEMO_DOMAIN;

export interface BenchTenant {
  journalAccountId: string;
  journalAddress: string;
  apiKey: string;
  gatewayAccountId: string;
}

/**
 * The bench's own PostgreSQL database (unique name, migrated with the repo's migrator) and Redis key prefix, on the
 * servers DATABASE_URL / REDIS_URL name. `destroy` drops that database and deletes that prefix's keys, nothing else.
 */
export class BenchEnvironment {
  private constructor(
    readonly databaseUrl: string,
    readonly redisUrl: string,
    readonly redisPrefix: string,
    readonly prisma: PrismaClient,
    readonly pg: Client,
    /** pg_stat_statements is available in the bench database (the server preloads it): per-statement figures. */
    readonly statementStatistics: boolean,
  ) {}

  static async create(): Promise<BenchEnvironment> {
    const config = loadConfig('admin-api');
    const name = `mw_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const url = new URL(config.DATABASE_URL);
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();
    await ensureDatabase(databaseUrl);
    await migrate({ databaseUrl });
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    const prisma = createPrismaClient({ databaseUrl, poolSize: 2 });
    return new BenchEnvironment(databaseUrl, config.REDIS_URL, `mw-bench-${randomBytes(4).toString('hex')}`, prisma, pg, await enableStatementStatistics(pg));
  }

  get databaseName(): string {
    return splitDatabaseUrl(this.databaseUrl).database;
  }

  /**
   * The demo tenant of `npm start` (monitor-only, a JOURNAL domain, a tenant-admin API key) for the journal scenarios,
   * and an enforced account with a verified GATEWAY domain routed to the local sink (plain SMTP: the sink has no TLS).
   */
  async seed(sinkPort: number): Promise<BenchTenant> {
    const demo = await seedDemo(this.prisma, JOURNAL_DOMAIN);
    const prisma = this.prisma as PrismaService;
    const gateway = await new AccountRepository(prisma, new AuditRepository(prisma)).create({ name: 'Bench gateway tenant', monitorOnly: false }, { actor: 'system:bench', actorKeyId: null });
    await this.prisma.domain.create({
      data: {
        accountId: gateway.id,
        name: GATEWAY_DOMAIN,
        mode: 'GATEWAY',
        verificationStatus: 'VERIFIED',
        verifiedAt: new Date(),
        verificationToken: `mailwarden-verification=${randomBytes(16).toString('hex')}`,
        downstreamHost: '127.0.0.1',
        downstreamPort: sinkPort,
        downstreamRequireTls: false,
        downstreamVerifyCert: false,
      },
    });
    return { journalAccountId: demo.accountId, journalAddress: demo.journalAddress, apiKey: demo.apiKey!, gatewayAccountId: gateway.id };
  }

  /** Environment of the app processes: this database and prefix, listeners on 127.0.0.1. */
  appEnv(extra: Record<string, string>): Record<string, string> {
    return { DATABASE_URL: this.databaseUrl, REDIS_URL: this.redisUrl, REDIS_PREFIX: this.redisPrefix, HOST: '127.0.0.1', JOURNAL_DOMAIN, ...extra, ...benchAppSettings() };
  }

  /**
   * Commands the Redis server has run so far, by name (`INFO commandstats`; the whole server, so the figures mean
   * something only on a Redis of the bench's own). This read's own INFO is left out.
   */
  async redisCommandCounts(): Promise<Map<string, number>> {
    const redis = new Redis({ ...redisOptionsFromUrl(this.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const counts = new Map<string, number>();
      for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        counts.set(match[1]!, Number(match[2]));
      }
      counts.set('info', (counts.get('info') ?? 1) - 1);
      return counts;
    } finally {
      redis.disconnect();
    }
  }

  /** Deletes every Redis key under this run's prefix (queues left from a phase), and only those. */
  async clearRedis(): Promise<number> {
    const redis = new Redis({ ...redisOptionsFromUrl(this.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let deleted = 0;
      const keys = redis.scanStream({ match: `${this.redisPrefix}:*`, count: 1000 });
      for await (const batch of keys as AsyncIterable<string[]>) {
        if (batch.length > 0) {
          deleted += await redis.unlink(...batch);
        }
      }
      return deleted;
    } finally {
      redis.disconnect();
    }
  }

  async destroy(): Promise<void> {
    await this.prisma.$disconnect().catch(() => undefined);
    await this.pg.end().catch(() => undefined);
    await this.clearRedis().catch((error: Error) => console.error(`bench: could not delete Redis keys ${this.redisPrefix}:* (${error.message})`));
    const admin = new Client({ connectionString: splitDatabaseUrl(this.databaseUrl).adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(this.databaseName)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/**
 * Settings for every app of a run from the bench's own environment: `MW_BENCH_APP_<NAME>=<value>` gives the apps
 * `<NAME>=<value>` (e.g. `MW_BENCH_APP_INGEST_INLINE_SCAN_BACKLOG=1024`), so a setting can be compared A/B on the same
 * build. They override the bench's own; the run's options line names them.
 */
export function benchAppSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const prefix = 'MW_BENCH_APP_';
  return Object.fromEntries(
    Object.entries(env)
      .filter(([name, value]) => name.startsWith(prefix) && name.length > prefix.length && value !== undefined)
      .map(([name, value]) => [name.slice(prefix.length), value!]),
  );
}
