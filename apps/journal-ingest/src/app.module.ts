import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, type JournalIngestConfig } from '@mailwarden/config';
import { DbModule, PostgresHealthIndicator } from '@mailwarden/db';
import { createMetricsRegistry, ObservabilityModule } from '@mailwarden/observability';
import { QueueModule, queueOptionsFromConfig, RedisHealthIndicator } from '@mailwarden/queue';
import { IngestModule } from './ingest/ingest.module';

@Module({})
export class AppModule {
  static forRoot(config: JournalIngestConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, commitMaxBatch: config.INGEST_COMMIT_MAX_BATCH }),
        QueueModule.forRoot(queueOptionsFromConfig(config)),
        ObservabilityModule.forRoot({
          registry: createMetricsRegistry('journal-ingest'),
          indicators: [PostgresHealthIndicator, RedisHealthIndicator],
        }),
        IngestModule,
      ],
    };
  }
}
