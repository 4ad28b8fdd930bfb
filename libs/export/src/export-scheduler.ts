import type { OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { ExportDestination } from '@mailwarden/db';
import { EXPORT_DESTINATION_JOB, exportSchedulerId, QueueName, type ExportDestinationJobData } from '@mailwarden/queue';
import type { ExportRunner, ExportRunResult } from './export-runner';

export interface ExportQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (tests give each file its own). */
  prefix?: string;
  /** How often each destination's run is scheduled (default 1000 ms). */
  everyMs?: number;
}

/**
 * One BullMQ job scheduler per enabled destination on QueueName.Export. A disabled or removed destination has none;
 * its cursor stays in PostgreSQL, so nothing in Redis is needed to resume (a lost Redis only loses pending runs,
 * which the next sync re-creates).
 */
export class ExportScheduler implements OnModuleDestroy {
  readonly queue: Queue<ExportDestinationJobData>;

  constructor(private readonly options: ExportQueueOptions) {
    this.queue = new Queue<ExportDestinationJobData>(QueueName.Export, { connection: options.connection, prefix: options.prefix });
  }

  async schedule(destination: Pick<ExportDestination, 'id' | 'enabled'>): Promise<void> {
    if (!destination.enabled) {
      await this.unschedule(destination.id);
      return;
    }
    await this.queue.upsertJobScheduler(
      exportSchedulerId(destination.id),
      { every: this.options.everyMs ?? 1000 },
      {
        name: EXPORT_DESTINATION_JOB,
        data: { destinationId: destination.id },
        // A failed run is not retried in place: the destination's back-off and the next scheduled run take over.
        opts: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 50 } },
      },
    );
  }

  async unschedule(destinationId: string): Promise<void> {
    await this.queue.removeJobScheduler(exportSchedulerId(destinationId));
  }

  /** Makes the schedulers match the destinations: one per enabled destination, none for others. */
  async sync(destinations: ReadonlyArray<Pick<ExportDestination, 'id' | 'enabled'>>): Promise<number> {
    const wanted = new Set(destinations.filter((destination) => destination.enabled).map((destination) => exportSchedulerId(destination.id)));
    for (const scheduler of await this.queue.getJobSchedulers()) {
      if (!wanted.has(scheduler.key)) {
        await this.queue.removeJobScheduler(scheduler.key);
      }
    }
    for (const destination of destinations) {
      await this.schedule(destination);
    }
    return wanted.size;
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  /** The app's shutdown closes the queue's Redis connection. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}

/** The worker of QueueName.Export: one run of the job's destination. Runs of one destination never overlap (lease). */
export function createExportWorker(runner: Pick<ExportRunner, 'run'>, options: ExportQueueOptions & { concurrency?: number }): Worker<ExportDestinationJobData, ExportRunResult> {
  return new Worker<ExportDestinationJobData, ExportRunResult>(QueueName.Export, (job) => runner.run(job.data.destinationId), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 4,
  });
}
