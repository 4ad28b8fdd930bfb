import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { JournalIngestConfig } from '@mailwarden/config';
import { AppModule, type JournalIngestOverrides } from './app.module';

/** Builds the journal-ingest process (its HTTP side serves /health and /metrics), not yet listening. */
export async function createJournalIngest(config: JournalIngestConfig, logger: LoggerService | false, overrides: JournalIngestOverrides = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, overrides), { logger });
  app.enableShutdownHooks();
  return app;
}
