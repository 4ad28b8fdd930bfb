import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ScannerConfig } from '@mailwarden/config';
import { AppModule, type ScannerOverrides } from './app.module';

/** Builds the scanner process (its HTTP side serves /health and /metrics), not yet listening. */
export async function createScanner(
  config: ScannerConfig,
  logger: LoggerService | false,
  overrides: ScannerOverrides = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, overrides), { logger });
  app.enableShutdownHooks();
  return app;
}
