import { freePort } from './free-port';

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

/**
 * The environment an app started in-process by a test begins from: the test's own database and Redis prefix, loopback,
 * free HTTP ports for both apps, quiet logs. `env` adds to it or overrides it (ports of the SMTP fronts, roles, keys).
 */
export async function appTestEnv(db: { url: string }, redis: { url: string; prefix: string }, env: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'fatal',
    SCANNER_HTTP_PORT: String(await freePort()),
    JOURNAL_HTTP_PORT: String(await freePort()),
    ...env,
  };
}
