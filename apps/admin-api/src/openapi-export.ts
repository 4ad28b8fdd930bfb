import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@mailwarden/config';
import { createAdminApi, createOpenApiDocument } from './admin-api.app';

/**
 * Writes the admin API's OpenAPI document to a file without listening (the console's build types its API client
 * from it: `node dist/apps/admin-api/src/openapi-export.js <file>`). Routes that exist
 * only with `SECRETS_KEY` set (Mimecast, export destinations) are included: a throwaway key is used when none is set.
 */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) {
    throw new Error('usage: openapi-export <file>');
  }
  const env = { ...process.env, SECRETS_KEY: process.env.SECRETS_KEY || Buffer.alloc(32, 1).toString('base64'), REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'error' };
  const app = await createAdminApi(loadConfig('admin-api', env), false);
  const document = createOpenApiDocument(app);
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  // Nothing was started (no listen, no init): the Redis and PostgreSQL clients never connected.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error('openapi-export:', error);
  process.exit(1);
});
