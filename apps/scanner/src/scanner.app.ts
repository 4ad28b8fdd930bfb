import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ScannerConfig } from '@mailwarden/config';
import { AppModule } from './app.module';

/** Builds the scanner process (its HTTP side serves /health and /metrics), not yet listening. */
export async function createScanner(config: ScannerConfig, logger: LoggerService | false): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger });
  app.enableShutdownHooks();
  return app;
}
