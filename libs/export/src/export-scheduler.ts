import type { OnModuleDestroy } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import type { ExportDestination } from '@mailwarden/db';
import { ExportDestinationJob, exportSchedulerId, handle, JobQueue, QueueName, type JobHandler } from '@mailwarden/queue';
import type { ExportRunner } from './export-runner';

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
  readonly jobs: JobQueue;

  constructor(private readonly options: ExportQueueOptions) {
    this.jobs = new JobQueue(QueueName.Export, options);
  }

  get queue() {
    return this.jobs.queue;
  }

  async schedule(destination: Pick<ExportDestination, 'id' | 'enabled'>): Promise<void> {
    if (!destination.enabled) {
      await this.unschedule(destination.id);
      return;
    }
    await this.jobs.schedule(ExportDestinationJob, exportSchedulerId(destination.id), this.options.everyMs ?? 1000, { destinationId: destination.id });
  }

  async unschedule(destinationId: string): Promise<void> {
    await this.jobs.unschedule(exportSchedulerId(destinationId));
  }

  /** Makes the schedulers match the destinations: one per enabled destination, none for others. */
  async sync(destinations: ReadonlyArray<Pick<ExportDestination, 'id' | 'enabled'>>): Promise<number> {
    const wanted = new Set(destinations.filter((destination) => destination.enabled).map((destination) => exportSchedulerId(destination.id)));
    for (const schedulerId of await this.jobs.schedulerIds()) {
      if (!wanted.has(schedulerId)) {
        await this.jobs.unschedule(schedulerId);
      }
    }
    for (const destination of destinations) {
      await this.schedule(destination);
    }
    return wanted.size;
  }

  close(): Promise<void> {
    return this.jobs.close();
  }

  /** The app's shutdown closes the queue's Redis connection. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}

/** The handlers of QueueName.Export (JobWorkers.start): one run of the job's destination. Runs of one destination never overlap (lease). */
export function exportHandlers(runner: Pick<ExportRunner, 'run'>): JobHandler[] {
  return [handle(ExportDestinationJob, (job) => runner.run(job.data.destinationId))];
}
