import { ensureDatabase, migrate } from '@mailwarden/db';

/**
 * Creates the database when missing and applies pending migrations, offline, recording them in
 * `_prisma_migrations` as Prisma does: `npm run db:migrate` and the operator CLI's `migrate`.
 */
export async function migrateDatabase(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const created = await ensureDatabase(databaseUrl);
  if (created) {
    log(`created database ${new URL(databaseUrl).pathname.slice(1)}`);
  }
  const result = await migrate({ databaseUrl, log });
  log(
    result.applied.length > 0
      ? `applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} already applied`
      : `database is up to date (${result.alreadyApplied.length} migration(s) applied)`,
  );
}
