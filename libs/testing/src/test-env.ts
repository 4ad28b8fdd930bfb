/**
 * Where the test suites find PostgreSQL and Redis: the services already running on the machine
 * (CI starts them in .ci/run). Override with TEST_DATABASE_URL / TEST_REDIS_URL.
 */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Set by the global setup: the migrated template database every test file clones. */
export const TEMPLATE_DB_ENV = 'MAILWARDEN_TEST_TEMPLATE_DB';

export function databaseUrl(database: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
