import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from '@mailwarden/accounts';
import { ConfigModule, type AdminApiConfig } from '@mailwarden/config';
import { DbModule, PostgresHealthIndicator } from '@mailwarden/db';
import { readFileSync } from 'node:fs';
import { Microsoft365Module, microsoft365SettingsFromConfig } from '@mailwarden/microsoft365';
import { QuickTestModule } from '@mailwarden/delivery';
import { ExportModule } from '@mailwarden/export';
import { MimecastModule } from '@mailwarden/mimecast';
import { ModeMigrationsModule } from '@mailwarden/mode-migrations';
import { MailflowHealthController } from './mailflow/mailflow-health.controller';
import { MailflowHealthApiService } from './mailflow/mailflow-health-api.service';
import { createMetricsRegistry, ObservabilityModule } from '@mailwarden/observability';
import { jobConsumersCheck, QueueModule, QueueName, queueOptionsFromConfig, RedisHealthIndicator } from '@mailwarden/queue';
import { CachingDnsResolver, createSystemDnsLookup, parseDnsServers, type DnsResolveFunction } from '@mailwarden/sender-checks';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { PartnersController } from './accounts/partners.controller';
import type { AdminApiOverrides } from './admin-api.options';
import { AuditController } from './audit/audit.controller';
import { ApiKeyAuthenticator } from './common/api-key-authenticator';
import { ApiKeyGuard } from './common/api-key.guard';
import { ProblemFilter } from './common/problem.filter';
import { RateLimiter } from './common/rate-limiter';
import { TenantAccess } from './common/tenant-access.service';
import { DirectoryController } from './directory/directory.controller';
import { DirectoryService } from './directory/directory.service';
import { DomainsController } from './domains/domains.controller';
import { DomainsService } from './domains/domains.service';
import { JournalController } from './journal/journal.controller';
import { MailflowConnectorController } from './mailflow/mailflow-connector.controller';
import { MailflowConnectorService } from './mailflow/mailflow-connector.service';
import { MessagesController } from './messages/messages.controller';
import { MessagesService } from './messages/messages.service';
import { MigrationsController } from './migrations/migrations.controller';
import { MigrationsService } from './migrations/migrations.service';
import { MimecastIntegrationService } from './mimecast/mimecast-integration.service';
import { MimecastController } from './mimecast/mimecast.controller';
import { MailboxImportController } from './microsoft365/mailbox-import.controller';
import { Microsoft365ApiService } from './microsoft365/microsoft365-api.service';
import { Microsoft365ConsentController } from './microsoft365/microsoft365-consent.controller';
import { Microsoft365Controller } from './microsoft365/microsoft365.controller';
import { RemediationsController } from './microsoft365/remediations.controller';
import { ExportDestinationsAdminService } from './export/export-destinations.admin.service';
import { AccountExportDestinationsController, PartnerExportDestinationsController } from './export/export-destinations.controller';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { QuarantineController } from './quarantine/quarantine.controller';
import { QuarantineService } from './quarantine/quarantine.service';
import { StatisticsController } from './statistics/statistics.controller';
import { EmergencyInboxController } from './emergency-inbox/emergency-inbox.controller';
import { EmergencyInboxService } from './emergency-inbox/emergency-inbox.service';
import { DkimKeysController } from './dkim/dkim-keys.controller';
import { DkimKeysService } from './dkim/dkim-keys.service';
import { AuthController, SessionController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { UsersController } from './auth/users.controller';
import { UsersService } from './auth/users.service';
import { OidcController } from './auth/oidc.controller';
import { OidcService } from './auth/oidc.service';
import { SessionService } from './auth/session.service';
import { AuthFailureThrottle } from './common/auth-failure-throttle';

@Module({})
export class AppModule {
  static forRoot(config: AdminApiConfig, overrides: AdminApiOverrides = {}): DynamicModule {
    // The scanner's resolver (DNS_SERVERS, DNS_TIMEOUT_MS) with a short cache: verification answers say when they came
    // from it and can bypass it; migration checks always ask the upstream (an admin's "check now" must see the change).
    const overrideLookup = overrides.resolveDns;
    const registry = createMetricsRegistry('admin-api');
    const dns = new CachingDnsResolver({
      registry,
      timeoutMs: config.DNS_TIMEOUT_MS,
      lookup: overrideLookup
        ? async (name, rrtype) => ({ records: await overrideLookup(name, rrtype) })
        : createSystemDnsLookup({ timeoutMs: config.DNS_TIMEOUT_MS, servers: parseDnsServers(config.DNS_SERVERS) }),
      defaultTtlSeconds: 30,
      maxTtlSeconds: 60,
      negativeTtlSeconds: 5,
    });
    const resolveDns: DnsResolveFunction = async (name, rrtype) => (await dns.resolveDetailed(name, rrtype, { bypassCache: true })).records;
    // Without SECRETS_KEY no credentials can be encrypted: the Mimecast routes answer 503 instead.
    const mimecast = config.SECRETS_KEY
      ? [
          MimecastModule.forRoot({
            secretsKey: config.SECRETS_KEY,
            allowHttpBaseUrl: overrides.allowHttpMimecastBaseUrl === true,
            // Configuring a connection (re)schedules its polls, which the scanner's workers run.
            schedulePolls: true,
          }),
          // Adding or changing a destination (re)schedules its export runs, which the scanner's workers run.
          ExportModule.forRoot({
            secretsKey: config.SECRETS_KEY,
            exportRoot: config.EXPORT_FILE_DIR,
          }),
        ]
      : [];
    // One Microsoft365Module for the app and for the mailflow plans (the same object: one instance, one token cache).
    const microsoft365App = microsoft365SettingsFromConfig(config, (path) => readFileSync(path, 'utf8'));
    const microsoft365 = Microsoft365Module.forRoot({
      app: microsoft365App,
      secretsKey: config.SECRETS_KEY,
      directorySyncMinutes: config.M365_DIRECTORY_SYNC_MINUTES,
      // The mailflow quick test through Exchange Online (issue 16): the route waits for it like the scanner path.
      mailflowQuickTest: { hostname: config.SMTP_HOSTNAME, timeoutMs: overrides.quickTestTimeoutMs ?? 120_000 },
      ...overrides.microsoft365,
    });
    // Mailflow plans create the Exchange Online connectors and rule themselves once a scanner host and a Microsoft app
    // are configured; the admin API runs the QueueName.ModeMigration worker for those steps.
    const mailflowAutomation = config.MAILFLOW_SCANNER_HOST && microsoft365App
      ? {
          mailflow: {
            scannerHost: config.MAILFLOW_SCANNER_HOST,
            certificateName: config.MAILFLOW_SCANNER_CERT_NAME || config.MAILFLOW_SCANNER_HOST,
            ipRanges: config.MAILFLOW_SCANNER_IP_RANGES ? config.MAILFLOW_SCANNER_IP_RANGES.split(',') : [],
            arcSealDomain: config.ARC_SEAL_DOMAIN || null,
          },
          // Steps are queued on the app's JobQueues (QueueModule below); its worker runs here.
          queue: {},
          runWorker: true,
        }
      : {};
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          readDatabaseUrl: config.DATABASE_READ_URL,
          readMaxLagSeconds: config.DATABASE_READ_MAX_LAG_SECONDS,
          poolSize: config.DATABASE_POOL_SIZE,
        }),
        QueueModule.forRoot(queueOptionsFromConfig(config)),
        ObservabilityModule.forRoot({
          registry,
          indicators: [PostgresHealthIndicator, RedisHealthIndicator],
        }),
        AccountsModule,
        QuickTestModule.forRoot({ smtpHost: config.SCANNER_SMTP_HOST, smtpPort: config.SCANNER_SMTP_PORT, hostname: config.SMTP_HOSTNAME, timeoutMs: overrides.quickTestTimeoutMs ?? 30_000 }),
        ModeMigrationsModule.forRoot({ resolveDns, journalDomain: config.JOURNAL_DOMAIN, journalQuietPeriodMs: overrides.journalQuietPeriodMs, ...mailflowAutomation }, [microsoft365]),
        ...mimecast,
        // Consent, connection check, directory sync requests and clawback; the scanner's workers run the jobs.
        microsoft365,
      ],
      controllers: [
        AccountsController,
        PartnersController,
        DomainsController,
        DirectoryController,
        JournalController,
        MigrationsController,
        MailflowConnectorController,
        PoliciesController,
        MessagesController,
        QuarantineController,
        AuditController,
        MimecastController,
        Microsoft365Controller,
        Microsoft365ConsentController,
        MailboxImportController,
        RemediationsController,
        StatisticsController,
        EmergencyInboxController,
        AccountExportDestinationsController,
        PartnerExportDestinationsController,
        DkimKeysController,
        MailflowHealthController,
        // Sign-in for people (issue 18).
        AuthController,
        SessionController,
        UsersController,
        OidcController,
      ],
      providers: [
        // With mailflow automation the admin API runs the mode-migration and tamper-check workers: startup fails without them.
        ...jobConsumersCheck('admin-api', 'runWorker' in mailflowAutomation ? [QueueName.ModeMigration, QueueName.MailflowTamperCheck] : []),
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: CachingDnsResolver, useValue: dns },
        RateLimiter,
        ApiKeyAuthenticator,
        ApiKeyGuard,
        TenantAccess,
        AccountsService,
        DomainsService,
        DirectoryService,
        MigrationsService,
        MailflowConnectorService,
        PoliciesService,
        MessagesService,
        QuarantineService,
        MimecastIntegrationService,
        Microsoft365ApiService,
        EmergencyInboxService,
        ExportDestinationsAdminService,
        DkimKeysService,
        MailflowHealthApiService,
        // Sign-in for people (issue 18).
        AuthFailureThrottle,
        SessionService,
        AuthService,
        UsersService,
        OidcService,
      ],
    };
  }
}
