import { Client } from 'pg';

/** Splits a database URL into the URL of the maintenance database and the database name. */
export function splitDatabaseUrl(databaseUrl: string): { adminUrl: string; database: string } {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) {
    throw new Error(`DATABASE_URL names no database: ${databaseUrl}`);
  }
  url.pathname = '/postgres';
  return { adminUrl: url.toString(), database };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates the database named in the URL when it does not exist yet. Returns true when it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { adminUrl, database } = splitDatabaseUrl(databaseUrl);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount) {
      return false;
    }
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
    } catch (error) {
      // 42P04 duplicate_database: another process created it first.
      // 23505: a concurrent CREATE DATABASE of the same name can also surface as a unique violation on pg_database.
      if (!['42P04', '23505'].includes((error as { code?: string }).code ?? '')) {
        throw error;
      }
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
