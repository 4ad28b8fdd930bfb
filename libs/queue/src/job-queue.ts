import { Logger } from '@nestjs/common';
import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { JobDefinition } from './job-definition';
import { QueueName } from './queue-name';

/**
 * The defaults of every job, in one place (Immich's pattern): jobs retry with exponential back-off and failed jobs
 * are kept for inspection. A job's own `options` (defineJob) override them.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10000 },
  removeOnFail: false,
} as const satisfies JobsOptions;

/** BullMQ's connection and key prefix (bullQueueSettings of the app's QueueOptions; tests give each file its own prefix). */
export interface JobConnection {
  connection: ConnectionOptions;
  prefix?: string;
}

/** The producer side of one queue: adds declared jobs with their id and options. */
export class JobQueue {
  private static readonly logger = new Logger(JobQueue.name);
  /** The BullMQ queue, for reads (getJob, getJobSchedulers) and job-level moves (retry, remove). */
  readonly queue: Queue;

  constructor(
    readonly name: QueueName,
    settings: JobConnection,
  ) {
    this.queue = new Queue(name, { connection: settings.connection, prefix: settings.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    // Without a listener BullMQ prints every Redis connection error to the console.
    this.queue.on('error', (error: Error) => JobQueue.logger.warn({ event: 'queue.error', queue: name, error: error.message }));
  }

  /** Adds one job; with a job id, adding it again while the job exists adds nothing (BullMQ). */
  add<T, A extends unknown[]>(job: JobDefinition<T, A>, data: T, ...args: A): Promise<Job<T>> {
    return this.queue.add(this.nameOf(job), data, this.optionsOf(job, data, args)) as Promise<Job<T>>;
  }

  /**
   * Adds one job that runs no sooner than `delayMs` from now (a retry with back-off). The job id rule as for {@link add}
   * while a job of that id waits, is delayed or runs (one schedule); but a finished one (completed or failed, kept for
   * inspection) no longer stands for this later run: it is removed and the job added again.
   */
  async addLater<T, A extends unknown[]>(job: JobDefinition<T, A>, data: T, delayMs: number, ...args: A): Promise<Job<T>> {
    const options = { ...this.optionsOf(job, data, args), delay: Math.max(0, delayMs) };
    const added = (await this.queue.add(this.nameOf(job), data, options)) as Job<T>;
    const state = options.jobId === undefined ? 'added' : await added.getState();
    if (state !== 'completed' && state !== 'failed') {
      return added;
    }
    await added.remove().catch(() => undefined); // another process removed or replaced it first: the add below decides
    return (await this.queue.add(this.nameOf(job), data, options)) as Job<T>;
  }

  /** Adds several jobs of one kind in one round trip. */
  addBulk<T>(job: JobDefinition<T>, items: readonly T[]): Promise<Array<Job<T>>> {
    return this.queue.addBulk(items.map((data) => ({ name: this.nameOf(job), data, opts: this.optionsOf(job, data, []) }))) as Promise<Array<Job<T>>>;
  }

  /** Creates or replaces the job scheduler `schedulerId`: one `job` with `data` every `everyMs`. */
  async schedule<T>(job: JobDefinition<T>, schedulerId: string, everyMs: number, data: T): Promise<void> {
    await this.queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name: this.nameOf(job), data, opts: job.options ?? {} });
  }

  async unschedule(schedulerId: string): Promise<void> {
    await this.queue.removeJobScheduler(schedulerId);
  }

  /** The ids of this queue's job schedulers. */
  async schedulerIds(): Promise<string[]> {
    return (await this.queue.getJobSchedulers()).map((scheduler) => scheduler.key);
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private nameOf(job: JobDefinition<never, never>): string {
    if (job.queue !== this.name) {
      throw new Error(`Job "${job.name}" belongs to queue "${job.queue}", not "${this.name}"`);
    }
    return job.name;
  }

  private optionsOf<T, A extends unknown[]>(job: JobDefinition<T, A>, data: T, args: A): JobsOptions {
    return { ...job.options, ...(job.jobId ? { jobId: job.jobId(data, ...args) } : {}) };
  }
}

/** One JobQueue per queue name for a process (or a test): every producer of a queue shares its connection. */
export class JobQueues {
  private readonly queues = new Map<QueueName, JobQueue>();

  constructor(private readonly settings: JobConnection) {}

  get(name: QueueName): JobQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new JobQueue(name, this.settings);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds a job to its queue (see JobQueue.add). */
  add<T, A extends unknown[]>(job: JobDefinition<T, A>, data: T, ...args: A): Promise<Job<T>> {
    return this.get(job.queue).add(job, data, ...args);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)));
  }
}
