import { Client } from 'pg';
import { quoteIdentifier } from '@mailwarden/db';
import { TEMPLATE_DB_ENV, TEST_POSTGRES_URL } from './test-env';

/** Drops the template database this run created (and nothing else). */
export default async function globalTeardown(): Promise<void> {
  const template = process.env[TEMPLATE_DB_ENV];
  if (!template) {
    return;
  }
  const admin = new Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(template)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
