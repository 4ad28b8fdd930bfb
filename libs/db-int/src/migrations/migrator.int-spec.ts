import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createEmptyDatabase } from '@mailwarden/testing';
import { migrate, MigrationError, MIGRATIONS_DIR, readMigrationFiles } from '@mailwarden/db';

async function migrationRows(url: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY migration_name',
    );
    return rows;
  } finally {
    await client.end();
  }
}

describe('migrate', () => {
  let db: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let scratch: string;

  beforeEach(async () => {
    db = await createEmptyDatabase();
    scratch = mkdtempSync(path.join(tmpdir(), 'mw-migrations-'));
    cpSync(MIGRATIONS_DIR, scratch, { recursive: true });
  });

  afterEach(async () => {
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('should record every migration as Prisma does', async () => {
    const result = await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    const files = readMigrationFiles(scratch);
    expect(result.applied).toEqual(files.map((file) => file.name));

    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.migration_name)).toEqual(files.map((file) => file.name));
    for (const [index, row] of rows.entries()) {
      expect(row.checksum).toBe(files[index]!.checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it('should leave one row per migration when run twice', async () => {
    await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    const second = await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    expect(second.applied).toEqual([]);
    expect(await migrationRows(db.url)).toHaveLength(readMigrationFiles(scratch).length);
  });

  it('should leave one row per migration when two processes run it at once', async () => {
    const results = await Promise.all([
      migrate({ databaseUrl: db.url, migrationsDir: scratch }),
      migrate({ databaseUrl: db.url, migrationsDir: scratch }),
      migrate({ databaseUrl: db.url, migrationsDir: scratch }),
    ]);
    const count = readMigrationFiles(scratch).length;
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, 0, count]);
    expect(await migrationRows(db.url)).toHaveLength(count);
  });

  it('should refuse a migration whose file changed after it was applied', async () => {
    await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    const [first] = readMigrationFiles(scratch);
    const file = path.join(scratch, first!.name, 'migration.sql');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n-- edited after the fact\n');

    await expect(migrate({ databaseUrl: db.url, migrationsDir: scratch })).rejects.toThrow(MigrationError);
    await expect(migrate({ databaseUrl: db.url, migrationsDir: scratch })).rejects.toThrow(
      new RegExp(`${first!.name} was modified after it was applied`),
    );
  });

  it('should apply only the new migration when one is added', async () => {
    await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    const name = '29990101000000_add_probe';
    cpSync(path.join(scratch, readMigrationFiles(scratch)[0]!.name), path.join(scratch, name), { recursive: true });
    writeFileSync(path.join(scratch, name, 'migration.sql'), 'CREATE TABLE "probe" ("id" INTEGER PRIMARY KEY);\n');

    const result = await migrate({ databaseUrl: db.url, migrationsDir: scratch });
    expect(result.applied).toEqual([name]);
  });

  it('should roll back a failing migration and record nothing for it', async () => {
    const name = '29990101000000_broken';
    cpSync(path.join(scratch, readMigrationFiles(scratch)[0]!.name), path.join(scratch, name), { recursive: true });
    writeFileSync(path.join(scratch, name, 'migration.sql'), 'CREATE TABLE "half" ("id" INTEGER);\nSELECT no_such_function();\n');

    await expect(migrate({ databaseUrl: db.url, migrationsDir: scratch })).rejects.toThrow(/29990101000000_broken failed/);
    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.migration_name)).not.toContain(name);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rowCount } = await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'half'");
    await client.end();
    expect(rowCount).toBe(0);
  });
});
