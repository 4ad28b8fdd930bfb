import { Client } from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '@mailwarden/config';
import { createPrismaClient, ensureDatabase, migrate, splitDatabaseUrl } from '@mailwarden/db';
import { seedDemo } from './seed';

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function checkPostgres(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: splitDatabaseUrl(databaseUrl).adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(databaseUrl)} (${(error as Error).message}). ` +
        'Start it: Debian `pg_ctlcluster <version> main start`, or `docker compose -f docker/compose.yml up -d postgres`; or set DATABASE_URL.',
    );
  }
}

async function checkRedis(redisUrl: string): Promise<void> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${redact(redisUrl)} (${(error as Error).message}). ` +
        'Start it: Debian `redis-server --daemonize yes`, or `docker compose -f docker/compose.yml up -d redis`; or set REDIS_URL.',
    );
  } finally {
    client.disconnect();
  }
}

/**
 * `npm start`'s first step: checks that PostgreSQL and Redis answer (one clear line when not), creates the
 * database if missing, applies migrations, seeds the demo tenant, and prints its journal address and API key.
 */
async function main(): Promise<void> {
  const config = loadConfig('admin-api');
  await checkPostgres(config.DATABASE_URL);
  await checkRedis(config.REDIS_URL);
  if (await ensureDatabase(config.DATABASE_URL)) {
    console.log(`created database ${splitDatabaseUrl(config.DATABASE_URL).database}`);
  }
  const result = await migrate({ databaseUrl: config.DATABASE_URL, log: (line) => console.log(line) });
  console.log(`database ready (${result.applied.length + result.alreadyApplied.length} migrations applied)`);

  const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, poolSize: 2 });
  try {
    const seed = await seedDemo(prisma, config.JOURNAL_DOMAIN);
    console.log(`demo tenant ${seed.accountId} (monitor-only), journal address ${seed.journalAddress}`);
    if (seed.apiKey) {
      console.log(`demo API key (shown once, store it now): ${seed.apiKey}`);
    } else {
      // Stored only as a hash: it cannot be shown again. README "Operators" says how to replace it.
      console.log(`demo API key: shown only when it was created; a lost key is replaced: npm run mw -- key create --account ${seed.accountId}`);
    }
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`mailwarden: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
