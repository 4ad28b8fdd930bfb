import { Logger } from '@nestjs/common';
import { UnrecoverableError, Worker } from 'bullmq';
import { handlersByName, MissingJobHandlerError, type JobHandler } from './job-definition';
import type { JobConnection } from './job-queue';
import { QueueName } from './queue-name';

export interface JobWorkerOptions {
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  /**
   * Stop without waiting for jobs in flight (the next worker takes them over after their lock expires). Default:
   * wait for them (the scan and delivery workers).
   */
  forceClose?: boolean;
}

/**
 * The consumer side: one BullMQ worker per queue in a process, each running its queue's jobs through the handlers
 * given (every job declared on the queue must have one, else `start` throws). In an app it is one instance
 * (QueueModule), so `assertConsuming` can tell at startup that the role's queues all have their worker.
 */
export class JobWorkers {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly workers = new Map<QueueName, { worker: Worker; force: boolean }>();

  constructor(private readonly settings: JobConnection) {}

  start(queue: QueueName, handlers: readonly JobHandler[], options: JobWorkerOptions = {}): Worker {
    if (this.workers.has(queue)) {
      throw new Error(`Queue "${queue}" already has a worker in this process`);
    }
    const runs = handlersByName(queue, handlers);
    const { forceClose, ...workerOptions } = options;
    const worker = new Worker(
      queue,
      async (job, token) => {
        const run = runs.get(job.name);
        if (!run) {
          throw new UnrecoverableError(`No handler for job "${job.name}" on queue "${queue}"`);
        }
        return run(job as never, token);
      },
      { connection: this.settings.connection, prefix: this.settings.prefix, ...workerOptions },
    );
    worker.on('error', (error) => this.logger.warn({ event: 'queue.worker_error', queue, error: error.message }));
    this.workers.set(queue, { worker, force: forceClose ?? false });
    return worker;
  }

  /** The queues this process has a worker for. */
  consumed(): QueueName[] {
    return [...this.workers.keys()];
  }

  /** Throws MissingJobHandlerError naming every queue of `queues` that has no worker here. */
  assertConsuming(queues: readonly QueueName[], role: string): void {
    const missing = queues.filter((queue) => !this.workers.has(queue));
    if (missing.length > 0) {
      throw new MissingJobHandlerError(`${role} consumes queue ${missing.map((queue) => `"${queue}"`).join(', ')} but no handler was started for it`);
    }
  }

  /** Stops the worker of one queue (forced or not as started); a queue without one: nothing. */
  async stop(queue: QueueName): Promise<void> {
    const entry = this.workers.get(queue);
    this.workers.delete(queue);
    await entry?.worker.close(entry.force);
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map(({ worker, force }) => worker.close(force).catch(() => undefined)));
  }
}
