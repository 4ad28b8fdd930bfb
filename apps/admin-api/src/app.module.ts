import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from '@mailwarden/accounts';
import { ConfigModule, type AdminApiConfig } from '@mailwarden/config';
import { DbModule, PostgresHealthIndicator } from '@mailwarden/db';
import { ExportModule } from '@mailwarden/export';
import { MimecastModule } from '@mailwarden/mimecast';
import { ModeMigrationsModule } from '@mailwarden/mode-migrations';
import { createMetricsRegistry, ObservabilityModule } from '@mailwarden/observability';
import { QueueModule, QueueName, RedisHealthIndicator, redisOptionsFromUrl } from '@mailwarden/queue';
import { CachingDnsResolver } from '@mailwarden/sender-checks';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import type { AdminApiOverrides } from './admin-api.options';
import { AuditController } from './audit/audit.controller';
import { ApiKeyAuthenticator } from './common/api-key-authenticator';
import { ApiKeyGuard } from './common/api-key.guard';
import { DNS_RESOLVE } from './common/dns-resolve';
import { ProblemFilter } from './common/problem.filter';
import { RateLimiter } from './common/rate-limiter';
import { TenantAccess } from './common/tenant-access.service';
import { DirectoryController } from './directory/directory.controller';
import { DirectoryService } from './directory/directory.service';
import { DomainsController } from './domains/domains.controller';
import { DomainsService } from './domains/domains.service';
import { JournalController } from './journal/journal.controller';
import { MessagesController } from './messages/messages.controller';
import { MessagesService } from './messages/messages.service';
import { MigrationsController } from './migrations/migrations.controller';
import { MigrationsService } from './migrations/migrations.service';
import { MimecastIntegrationService } from './mimecast/mimecast-integration.service';
import { MimecastController } from './mimecast/mimecast.controller';
import { ExportDestinationsAdminService } from './export/export-destinations.admin.service';
import { AccountExportDestinationsController, PartnerExportDestinationsController } from './export/export-destinations.controller';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { QuarantineController } from './quarantine/quarantine.controller';
import { QuarantineService } from './quarantine/quarantine.service';

@Module({})
export class AppModule {
  static forRoot(config: AdminApiConfig, overrides: AdminApiOverrides = {}): DynamicModule {
    // Verification and migration checks want fresh answers: a short cache only absorbs repeated clicks.
    const resolveDns = overrides.resolveDns ?? new CachingDnsResolver({ timeoutMs: 5000, defaultTtlSeconds: 30, maxTtlSeconds: 60, negativeTtlSeconds: 5 }).resolve;
    // Without SECRETS_KEY no credentials can be encrypted: the Mimecast routes answer 503 instead.
    const mimecast = config.SECRETS_KEY
      ? [
          MimecastModule.forRoot({
            secretsKey: config.SECRETS_KEY,
            allowHttpBaseUrl: overrides.allowHttpMimecastBaseUrl === true,
            // Configuring a connection (re)schedules its polls, which the scanner's workers run.
            queue: { connection: redisOptionsFromUrl(config.REDIS_URL) as never, prefix: config.REDIS_PREFIX },
          }),
          // Adding or changing a destination (re)schedules its export runs, which the scanner's workers run.
          ExportModule.forRoot({
            secretsKey: config.SECRETS_KEY,
            exportRoot: config.EXPORT_FILE_DIR,
            queue: { connection: redisOptionsFromUrl(config.REDIS_URL) as never, prefix: config.REDIS_PREFIX },
          }),
        ]
      : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }),
        QueueModule.forRoot({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX }),
        BullModule.registerQueue({ name: QueueName.Delivery }),
        ObservabilityModule.forRoot({
          registry: createMetricsRegistry('admin-api'),
          indicators: [PostgresHealthIndicator, RedisHealthIndicator],
        }),
        AccountsModule,
        ModeMigrationsModule.forRoot({ resolveDns, journalDomain: config.JOURNAL_DOMAIN, journalQuietPeriodMs: overrides.journalQuietPeriodMs }),
        ...mimecast,
      ],
      controllers: [
        AccountsController,
        DomainsController,
        DirectoryController,
        JournalController,
        MigrationsController,
        PoliciesController,
        MessagesController,
        QuarantineController,
        AuditController,
        MimecastController,
        AccountExportDestinationsController,
        PartnerExportDestinationsController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: DNS_RESOLVE, useValue: resolveDns },
        RateLimiter,
        ApiKeyAuthenticator,
        ApiKeyGuard,
        TenantAccess,
        AccountsService,
        DomainsService,
        DirectoryService,
        MigrationsService,
        PoliciesService,
        MessagesService,
        QuarantineService,
        MimecastIntegrationService,
        ExportDestinationsAdminService,
      ],
    };
  }
}
