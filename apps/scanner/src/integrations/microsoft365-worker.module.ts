import { readFileSync } from 'node:fs';
import { type DynamicModule, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Microsoft365Repository } from '@mailwarden/db';
import {
  DirectorySyncService,
  MailflowHealthWorkers,
  MailflowQuickTestService,
  Microsoft365Module,
  Microsoft365Queues,
  Microsoft365Service,
  microsoft365SettingsFromConfig,
  Microsoft365Workers,
  RemediationService,
  type Microsoft365ConfigValues,
} from '@mailwarden/microsoft365';
import { JobWorkers } from '@mailwarden/queue';

/** Starts and stops the Microsoft 365 workers with the scanner (worker role). */
class Microsoft365WorkerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly workers: Microsoft365Workers,
    private readonly mailflow: MailflowHealthWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.workers.start();
    await this.mailflow.start();
  }

  /** Jobs in flight are left to the next worker (each mailbox's state is committed as it goes). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.workers.stop(), this.mailflow.stop()]);
  }
}

/** Directory sync and clawback workers (QueueName.M365DirectorySync, QueueName.M365Remediation). */
@Module({})
export class Microsoft365WorkerModule {
  static forRoot(
    config: Microsoft365ConfigValues & { M365_DIRECTORY_SYNC_MINUTES: number; SMTP_HOSTNAME: string; MAILFLOW_QUICK_TEST_SOURCE_ADDRESS?: string },
    mailflow: { quickTestTimeoutMs?: number; quickTestPollMs?: number } = {},
  ): DynamicModule {
    return {
      module: Microsoft365WorkerModule,
      imports: [
        Microsoft365Module.forRoot({
          app: microsoft365SettingsFromConfig(config, (path) => readFileSync(path, 'utf8')),
          // The scanner never signs consent state.
          secretsKey: '',
          directorySyncMinutes: config.M365_DIRECTORY_SYNC_MINUTES,
          mailflowQuickTest: { hostname: config.SMTP_HOSTNAME, timeoutMs: mailflow.quickTestTimeoutMs, pollMs: mailflow.quickTestPollMs, localAddress: config.MAILFLOW_QUICK_TEST_SOURCE_ADDRESS || undefined },
        }),
      ],
      providers: [
        {
          provide: Microsoft365Workers,
          useFactory: (sync: DirectorySyncService, remediations: RemediationService, repository: Microsoft365Repository, queues: Microsoft365Queues, microsoft365: Microsoft365Service, workers: JobWorkers) =>
            new Microsoft365Workers(sync, remediations, repository, queues, microsoft365, workers, { directorySyncMinutes: config.M365_DIRECTORY_SYNC_MINUTES }),
          inject: [DirectorySyncService, RemediationService, Microsoft365Repository, Microsoft365Queues, Microsoft365Service, JobWorkers],
        },
        {
          provide: MailflowHealthWorkers,
          useFactory: (quickTests: MailflowQuickTestService, workers: JobWorkers) => new MailflowHealthWorkers(quickTests, workers),
          inject: [MailflowQuickTestService, JobWorkers],
        },
        {
          provide: Microsoft365WorkerLifecycle,
          useFactory: (workers: Microsoft365Workers, mailflowWorkers: MailflowHealthWorkers) => new Microsoft365WorkerLifecycle(workers, mailflowWorkers),
          inject: [Microsoft365Workers, MailflowHealthWorkers],
        },
      ],
    };
  }
}
