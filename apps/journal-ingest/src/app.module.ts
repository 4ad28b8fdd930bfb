import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, type JournalIngestConfig } from '@mailwarden/config';
import { DbModule, PostgresHealthIndicator } from '@mailwarden/db';
import { createMetricsRegistry, ObservabilityModule } from '@mailwarden/observability';
import { QueueModule, queueOptionsFromConfig, RedisHealthIndicator } from '@mailwarden/queue';
import { SenderChecksModule, type DnsLookup } from '@mailwarden/sender-checks';
import { IngestModule } from './ingest/ingest.module';

export interface JournalIngestOverrides {
  /** Upstream DNS for the sender checks of the in-process scans (tests answer from a zone); defaults to the system resolver. */
  dnsLookup?: DnsLookup;
}

@Module({})
export class AppModule {
  static forRoot(config: JournalIngestConfig, overrides: JournalIngestOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE, commitMaxBatch: config.INGEST_COMMIT_MAX_BATCH }),
        QueueModule.forRoot(queueOptionsFromConfig(config)),
        // The sender checks of the scans this process runs after its commits (INGEST_INLINE_SCAN), as the scanner's.
        SenderChecksModule.forApp(config, overrides.dnsLookup),
        ObservabilityModule.forRoot({
          registry: createMetricsRegistry('journal-ingest'),
          indicators: [PostgresHealthIndicator, RedisHealthIndicator],
        }),
        IngestModule,
      ],
    };
  }
}
