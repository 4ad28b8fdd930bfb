import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { ConfigModule, type ScannerConfig } from '@mailwarden/config';
import { DbModule, PostgresHealthIndicator } from '@mailwarden/db';
import { createMetricsRegistry, ObservabilityModule } from '@mailwarden/observability';
import { jobConsumersCheck, QueueMetrics, QueueModule, QueueName, queueOptionsFromConfig, RedisHealthIndicator } from '@mailwarden/queue';
import { SenderChecksModule, type DnsLookup } from '@mailwarden/sender-checks';
import { DeliveryWorkerModule } from './delivery/delivery-worker.module';
import { ExportModule, type ExportRunOptions } from '@mailwarden/export';
import type { MimecastModuleOptions } from '@mailwarden/mimecast';
import { Microsoft365WorkerModule } from './integrations/microsoft365-worker.module';
import { MimecastWorkerModule } from './integrations/mimecast-worker.module';
import type { DeliveryTuning } from './delivery/delivery.options';
import { ScanWorkerModule } from './scan/scan-worker.module';
import { GatewaySmtpModule } from './smtp/gateway-smtp.module';
import type { GatewaySmtpTuning } from './smtp/gateway-smtp.options';

/** The queues a scanner of this role runs the jobs of (its startup fails if one has no worker). */
export function scannerConsumedQueues(config: Pick<ScannerConfig, 'SCANNER_ROLE' | 'SECRETS_KEY'>): QueueName[] {
  if (config.SCANNER_ROLE === 'smtp') {
    return [];
  }
  const queues = [QueueName.Scan, QueueName.Delivery, QueueName.M365DirectorySync, QueueName.M365Remediation, QueueName.M365Mailflow];
  return config.SECRETS_KEY ? [...queues, QueueName.MimecastPoll, QueueName.Export] : queues;
}

export interface ScannerOverrides {
  /** Upstream DNS for the sender checks (tests answer from a zone); defaults to the system resolver. */
  dnsLookup?: DnsLookup;
  /** Gateway SMTP front timings and limits that are not environment settings (tests shorten them). */
  smtp?: Partial<GatewaySmtpTuning>;
  /** Delivery retry timings and the DSN route (tests shorten them and route DSNs to a local sink). */
  delivery?: Partial<DeliveryTuning>;
  /** Mimecast client retry settings (tests make a poll against a closed port fail at once). */
  mimecastClient?: MimecastModuleOptions['client'];
  /** SIEM export run timings (tests shorten back-off and leases) and how often each destination runs. */
  export?: Partial<ExportRunOptions> & { everyMs?: number; pruneEveryMs?: number };
  /** Microsoft 365 mailflow quick test timings (tests shorten them). */
  mailflow?: { quickTestTimeoutMs?: number; quickTestPollMs?: number };
}

@Module({})
export class AppModule {
  static forRoot(config: ScannerConfig, overrides: ScannerOverrides = {}): DynamicModule {
    const roles: Array<Type | DynamicModule> = [];
    const registry = createMetricsRegistry('scanner');
    // One instance: with SCANNER_ROLE=all the SMTP front imports it too, for the in-process delivery.
    const delivery = DeliveryWorkerModule.forRoot(overrides.delivery);
    if (config.SCANNER_ROLE === 'worker' || config.SCANNER_ROLE === 'all') {
      roles.push(ScanWorkerModule, delivery);
      roles.push(Microsoft365WorkerModule.forRoot(config, overrides.mailflow));
      // Third-party integrations and SIEM destinations need SECRETS_KEY to decrypt their stored credentials.
      if (config.SECRETS_KEY) {
        roles.push(MimecastWorkerModule.forRoot(config.SECRETS_KEY, overrides.mimecastClient));
        const { everyMs, pruneEveryMs, ...run } = overrides.export ?? {};
        roles.push(
          ExportModule.forRoot({
            secretsKey: config.SECRETS_KEY,
            exportRoot: config.EXPORT_FILE_DIR,
            everyMs,
            worker: { batchSize: config.EXPORT_BATCH_SIZE, leaseMs: config.EXPORT_LEASE_SECONDS * 1000, ...run, pruneEveryMs, metrics: registry },
          }),
        );
      }
    }
    if (config.SCANNER_ROLE === 'smtp' || config.SCANNER_ROLE === 'all') {
      roles.push(GatewaySmtpModule.forRoot(overrides.smtp, config.SCANNER_ROLE === 'all' ? delivery : undefined));
    }
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }),
        QueueModule.forRoot(queueOptionsFromConfig(config)),
        SenderChecksModule.forApp(config, overrides.dnsLookup),
        ObservabilityModule.forRoot({
          registry,
          indicators: [PostgresHealthIndicator, RedisHealthIndicator],
        }),
        ...roles,
      ],
      // Queue depth and waiting age on /metrics, read from Redis at scrape time (every scanner role reports them).
      providers: [QueueMetrics, ...jobConsumersCheck(`SCANNER_ROLE=${config.SCANNER_ROLE}`, scannerConsumedQueues(config))],
    };
  }
}
