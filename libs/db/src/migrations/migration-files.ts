import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Default location of the schema migrations, in Prisma's own layout: next to the sources
 * (libs/db/src/migrations → libs/db/prisma/migrations), also when running compiled from dist/libs/db/src/migrations.
 */
export const MIGRATIONS_DIR = [
  path.resolve(__dirname, '..', '..', 'prisma', 'migrations'),
  path.resolve(__dirname, '..', '..', '..', '..', '..', 'libs', 'db', 'prisma', 'migrations'),
].find((candidate) => existsSync(candidate)) ?? path.resolve(__dirname, '..', '..', 'prisma', 'migrations');

export interface MigrationFile {
  /** Folder name, `<timestamp>_<name>`, as Prisma records it in `migration_name`. */
  name: string;
  sql: string;
  /** Hex SHA-256 of the file, as Prisma records it in `checksum`. */
  checksum: string;
}

/** Reads `<dir>/<timestamp>_<name>/migration.sql` in name order, exactly as `prisma migrate deploy` would. */
export function readMigrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) {
    throw new Error(`migrations folder not found: ${dir}`);
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}
