import { Client } from 'pg';
import { createPrismaClient, quoteIdentifier, type PrismaClient } from '@mailwarden/db';
import { TEMPLATE_DB_ENV, TEST_POSTGRES_URL, databaseUrl, uniqueName } from './test-env';

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  /** Disconnects and drops the database (only this one). */
  drop(): Promise<void>;
}

async function withAdmin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database (not migrated) with a unique name. */
export async function createEmptyDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName('mw_test');
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

/** Clones the run's migrated template into a database of this test file's own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env[TEMPLATE_DB_ENV];
  if (!template) {
    throw new Error(`${TEMPLATE_DB_ENV} is not set: run integration tests through jest's integration project`);
  }
  const name = uniqueName('mw_test');
  await withAdmin(async (admin) => {
    // Two clones at the same instant can collide on the template ("being accessed by other users"): retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
  const url = databaseUrl(name);
  const prisma = createPrismaClient({ databaseUrl: url, poolSize: 4 });
  return {
    name,
    url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await dropDatabase(name);
    },
  };
}

/**
 * Holds `table` in EXCLUSIVE mode on a connection of its own until `release` (writers of it wait, readers do not):
 * makes a commit wait at a known point, e.g. so that more writes gather behind a group commit in flight.
 */
export async function holdTableLock(url: string, table: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${quoteIdentifier(table)} IN EXCLUSIVE MODE`);
  return {
    release: async () => {
      await client.query('ROLLBACK').finally(() => client.end());
    },
  };
}

/** Resolves once a session of the database waits on a lock (a statement held by {@link holdTableLock}); throws after 15 s. */
export async function untilWaitingOnLock(prisma: PrismaClient): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const [row] = await prisma.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS "n" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (row!.n > 0) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no statement waited on the lock');
}
