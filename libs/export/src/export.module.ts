import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { ExportRepository } from '@mailwarden/db';
import { JobQueues, JobWorkers } from '@mailwarden/queue';
import { ExportDestinationsService } from './export-destinations.service';
import { DEFAULT_EXPORT_RUN_OPTIONS, ExportRunner, type ExportRunOptions } from './export-runner';
import { ExportScheduler } from './export-scheduler';
import { ExportSinkFactory } from './export-sinks';
import { ExportWorkerService, registerExportMetrics } from './export-worker.service';
import { EventRenderer } from './event-renderer';
import { PRODUCT_VERSION } from './ocsf/ocsf.constants';

export interface ExportModuleOptions {
  /** SECRETS_KEY: destination credentials are encrypted with it. */
  secretsKey: string;
  /** EXPORT_FILE_DIR: NDJSON destinations write under it. */
  exportRoot: string;
  /** How often each enabled destination's run is scheduled (default 1000 ms). */
  everyMs?: number;
  /** Run the export worker here (the scanner's worker role), with these run options. */
  worker?: Partial<ExportRunOptions> & { concurrency?: number; pruneEveryMs?: number; metrics?: Registry };
}

/**
 * The SIEM export for an app that already imports DbModule and QueueModule (its JobQueues and JobWorkers):
 * destinations (admin API) and, with `worker`, the runs.
 */
@Module({})
export class ExportModule {
  static forRoot(options: ExportModuleOptions): DynamicModule {
    const worker: Provider[] = options.worker
      ? [
          {
            provide: ExportRunner,
            useFactory: (repository: ExportRepository, sinks: ExportSinkFactory) =>
              new ExportRunner(repository, new EventRenderer(repository, PRODUCT_VERSION), sinks.sinkFor, { ...DEFAULT_EXPORT_RUN_OPTIONS, ...options.worker }),
            inject: [ExportRepository, ExportSinkFactory],
          },
          {
            provide: ExportWorkerService,
            useFactory: (runner: ExportRunner, scheduler: ExportScheduler, repository: ExportRepository, workers: JobWorkers) => {
              if (options.worker?.metrics) {
                registerExportMetrics(options.worker.metrics, repository);
              }
              return new ExportWorkerService(runner, scheduler, repository, workers, { concurrency: options.worker?.concurrency, pruneEveryMs: options.worker?.pruneEveryMs });
            },
            inject: [ExportRunner, ExportScheduler, ExportRepository, JobWorkers],
          },
        ]
      : [];
    return {
      module: ExportModule,
      providers: [
        { provide: ExportSinkFactory, useFactory: () => new ExportSinkFactory(options.secretsKey, options.exportRoot) },
        { provide: ExportScheduler, useFactory: (queues: JobQueues) => new ExportScheduler(queues, options.everyMs), inject: [JobQueues] },
        {
          provide: ExportDestinationsService,
          useFactory: (repository: ExportRepository, sinks: ExportSinkFactory, scheduler: ExportScheduler) => new ExportDestinationsService(repository, sinks, options.exportRoot, scheduler, PRODUCT_VERSION),
          inject: [ExportRepository, ExportSinkFactory, ExportScheduler],
        },
        ...worker,
      ],
      exports: [ExportDestinationsService, ExportScheduler, ...(options.worker ? [ExportRunner] : [])],
    };
  }
}
