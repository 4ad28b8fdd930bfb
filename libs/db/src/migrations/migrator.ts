import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATIONS_DIR, readMigrationFiles, type MigrationFile } from './migration-files';

/** The advisory lock key `prisma migrate` takes, so this migrator and Prisma's never run at once. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

// Prisma's own bookkeeping table, created with the DDL `prisma migrate` uses.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrateOptions {
  databaseUrl: string;
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending schema migrations without Prisma's native engine, recording them in `_prisma_migrations`
 * as `prisma migrate deploy` does, so either tool can take over. Idempotent; serialized across processes by
 * Prisma's advisory lock; refuses when an applied migration's file has changed, or one is recorded as failed.
 * Each migration runs in one transaction with its bookkeeping row, so a failure leaves no trace to repair.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const files = readMigrationFiles(options.migrationsDir ?? MIGRATIONS_DIR);
  const log = options.log ?? (() => undefined);
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const applied = new Map(rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row]));
      checkHistory(files, applied, log);

      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const file of files) {
        if (applied.has(file.name)) {
          result.alreadyApplied.push(file.name);
          continue;
        }
        await applyOne(client, file);
        log(`applied ${file.name}`);
        result.applied.push(file.name);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

function checkHistory(files: MigrationFile[], applied: Map<string, AppliedRow>, log: (line: string) => void): void {
  const local = new Map(files.map((file) => [file.name, file]));
  for (const row of applied.values()) {
    if (row.finished_at === null) {
      throw new MigrationError(
        `migration ${row.migration_name} is recorded as started but not finished; inspect the database, ` +
          'then mark it rolled back (`prisma migrate resolve --rolled-back`) before migrating again',
        row.migration_name,
      );
    }
    const file = local.get(row.migration_name);
    if (!file) {
      log(`warning: ${row.migration_name} is applied in the database but missing from the migrations folder`);
      continue;
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum} in the ` +
          `database, ${file.checksum} on disk); restore the file and put the change in a new migration`,
        row.migration_name,
      );
    }
  }
}

async function applyOne(client: Client, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
      [id, file.checksum, file.name],
    );
    await client.query(file.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${file.name} failed and was rolled back: ${reason}`, file.name);
  }
}
