import type { ExportDestination } from '@mailwarden/db';
import { ExportDestinationJob, exportSchedulerId, handle, JobQueue, JobQueues, QueueName, type JobHandler } from '@mailwarden/queue';
import type { ExportRunner } from './export-runner';

/**
 * One BullMQ job scheduler per enabled destination on QueueName.Export (the app's JobQueues, QueueModule). A
 * disabled or removed destination has none; its cursor stays in PostgreSQL, so nothing in Redis is needed to resume
 * (a lost Redis only loses pending runs, which the next sync re-creates).
 */
export class ExportScheduler {
  readonly jobs: JobQueue;

  /** `everyMs`: how often each destination's run is scheduled (default 1000 ms). */
  constructor(
    queues: JobQueues,
    private readonly everyMs = 1000,
  ) {
    this.jobs = queues.get(QueueName.Export);
  }

  get queue() {
    return this.jobs.queue;
  }

  async schedule(destination: Pick<ExportDestination, 'id' | 'enabled'>): Promise<void> {
    if (!destination.enabled) {
      await this.unschedule(destination.id);
      return;
    }
    await this.jobs.schedule(ExportDestinationJob, exportSchedulerId(destination.id), this.everyMs, { destinationId: destination.id });
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
}

/** The handlers of QueueName.Export (JobWorkers.start): one run of the job's destination. Runs of one destination never overlap (lease). */
export function exportHandlers(runner: Pick<ExportRunner, 'run'>): JobHandler[] {
  return [handle(ExportDestinationJob, (job) => runner.run(job.data.destinationId))];
}
