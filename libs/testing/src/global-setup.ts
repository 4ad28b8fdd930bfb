import { Client } from 'pg';
import { migrate, quoteIdentifier } from '@mailwarden/db';
import { TEMPLATE_DB_ENV, TEST_POSTGRES_URL, databaseUrl, uniqueName } from './test-env';

/**
 * Jest global setup for the integration project: creates one template database for this run and migrates
 * it once; every test file then clones it (CREATE DATABASE … TEMPLATE), which takes milliseconds.
 */
export default async function globalSetup(): Promise<void> {
  const template = uniqueName('mw_tpl');
  const admin = new Client({ connectionString: TEST_POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `integration tests need PostgreSQL at ${TEST_POSTGRES_URL} (${(error as Error).message}); ` +
        'start it (Debian: pg_ctlcluster <version> main start) or set TEST_DATABASE_URL',
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(template)}`);
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: databaseUrl(template) });
  process.env[TEMPLATE_DB_ENV] = template;
}
