import { ensureDatabase, migrate, MigrationError } from '@mailwarden/db';
import { loadConfig } from '@mailwarden/config';

/**
 * `npm run db:migrate`: creates the database when missing and applies pending migrations, offline,
 * recording them in `_prisma_migrations` as Prisma does. Exits non-zero with one clear line on failure.
 */
async function main(): Promise<void> {
  const { DATABASE_URL } = loadConfig('admin-api');
  const created = await ensureDatabase(DATABASE_URL);
  if (created) {
    console.log(`created database ${new URL(DATABASE_URL).pathname.slice(1)}`);
  }
  const result = await migrate({ databaseUrl: DATABASE_URL, log: (line) => console.log(line) });
  console.log(
    result.applied.length > 0
      ? `applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} already applied`
      : `database is up to date (${result.alreadyApplied.length} migration(s) applied)`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof MigrationError ? `db:migrate refused: ${error.message}` : `db:migrate failed: ${String((error as Error)?.message ?? error)}`);
  process.exit(1);
});
