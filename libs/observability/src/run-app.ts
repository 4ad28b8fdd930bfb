import type { ConsoleLogger } from '@nestjs/common';
import { ConfigError, loadConfig, type AppName, type ConfigFor } from '@mailwarden/config';
import { createAppLogger } from './logger';

/**
 * Every app's `main`: loads the app's config from the environment, makes its logger, then `start`s it (builds the
 * Nest app and listens). A startup that fails exits with status 1: a bad setting as `<app>: <what is wrong>`, any
 * other error as itself.
 */
export function runApp<A extends AppName>(app: A, start: (config: ConfigFor[A], logger: ConsoleLogger) => Promise<void>): Promise<void> {
  const main = async (): Promise<void> => {
    const config = loadConfig(app);
    await start(config, createAppLogger(app, { level: config.LOG_LEVEL, format: config.LOG_FORMAT }));
  };
  return main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? `${app}: ${error.message}` : error);
    process.exit(1);
  });
}
