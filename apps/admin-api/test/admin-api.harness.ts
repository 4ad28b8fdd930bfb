import type { INestApplication, LoggerService } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
// Test code, outside the app's build (tsconfig.app.json compiles src/): imported only by the admin API's int-specs.
// eslint-disable-next-line no-restricted-imports
import { createTestDatabase, createTestRedis, listenOnFreePort, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createAdminApi } from '../src/admin-api.app';
import type { AdminApiOverrides } from '../src/admin-api.options';

/** The SECRETS_KEY of every test admin API (integration secrets are sealed with it). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 9).toString('base64');

export type Json = Record<string, unknown>;

/** A reply of {@link TestAdminApi.call}: its status, headers and JSON body (`{}` when empty or not JSON), and the text as sent. */
export interface JsonReply<T = Json> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestAdminApiOptions {
  /** Added to the default environment (database, Redis prefix, no rate limit in the way, TEST_SECRETS_KEY), or replacing it. */
  env?: Record<string, string>;
  overrides?: AdminApiOverrides;
  logger?: LoggerService | false;
  /** Listen on this port rather than a free one, for a URL known before the app starts (an OIDC redirect URI). */
  port?: number;
}

/** The real admin API over HTTP on a database and a Redis prefix of its own. */
export interface TestAdminApi {
  db: TestDatabase;
  redis: TestRedis;
  app: INestApplication;
  baseUrl: string;
  /** One request with a bearer key (none when null) and a JSON body when given. */
  call<T = Json>(method: string, path: string, key: string | null, body?: unknown): Promise<JsonReply<T>>;
  /** Closes the app, then removes its Redis keys and its database. */
  close(): Promise<void>;
}

/** Starts the admin API the way its int-specs do; whatever fails on the way is cleaned up before the error is thrown. */
export async function startTestAdminApi(options: TestAdminApiOptions = {}): Promise<TestAdminApi> {
  const [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
  let app: INestApplication | undefined;
  try {
    const config = loadConfig('admin-api', {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      API_RATE_LIMIT_PER_MINUTE: '100000',
      SECRETS_KEY: TEST_SECRETS_KEY,
      ...options.env,
    });
    app = await createAdminApi(config, options.logger ?? false, options.overrides);
    let baseUrl: string;
    if (options.port === undefined) {
      baseUrl = await listenOnFreePort(app);
    } else {
      await app.listen(options.port, '127.0.0.1');
      baseUrl = `http://127.0.0.1:${options.port}`;
    }
    const started = app;
    return {
      db,
      redis,
      app: started,
      baseUrl,
      async call<T = Json>(method: string, path: string, key: string | null, body?: unknown): Promise<JsonReply<T>> {
        const response = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        const text = await response.text();
        let parsed: unknown = {};
        try {
          parsed = text ? JSON.parse(text) : {};
        } catch {
          // Not JSON (an HTML page, a plain-text error): the caller reads `text`.
        }
        return { status: response.status, headers: response.headers, body: parsed as T, text };
      },
      async close() {
        await started.close();
        await redis.cleanup();
        await db.drop();
      },
    };
  } catch (error) {
    await app?.close();
    await redis.cleanup();
    await db.drop();
    throw error;
  }
}
