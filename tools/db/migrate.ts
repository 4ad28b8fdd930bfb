import { MigrationError } from '@mailwarden/db';
import { loadConfig } from '@mailwarden/config';
import { migrateDatabase } from './migrate-database';

/** `npm run db:migrate`: see migrateDatabase. Exits non-zero with one clear line on failure. */
async function main(): Promise<void> {
  const { DATABASE_URL } = loadConfig('admin-api');
  await migrateDatabase(DATABASE_URL, (line) => console.log(line));
}

main().catch((error: unknown) => {
  console.error(error instanceof MigrationError ? `db:migrate refused: ${error.message}` : `db:migrate failed: ${String((error as Error)?.message ?? error)}`);
  process.exit(1);
});
