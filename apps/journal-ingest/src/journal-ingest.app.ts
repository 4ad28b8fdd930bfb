import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { JournalIngestConfig } from '@mailwarden/config';
import { AppModule } from './app.module';

/** Builds the journal-ingest process (its HTTP side serves /health and /metrics), not yet listening. */
export async function createJournalIngest(config: JournalIngestConfig, logger: LoggerService | false): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger });
  app.enableShutdownHooks();
  return app;
}
