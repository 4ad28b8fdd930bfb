import type { Job, JobsOptions } from 'bullmq';
import { QueueName } from './queue-name';

/**
 * One kind of job: the queue it runs on, its BullMQ job name, its payload type `T` (ids only) and how its job id
 * is made. Every producer adds it through a JobQueue and every consumer handles it through a JobWorkers handler, so
 * the name, the id and the options are written here once. `A`: what the id needs beside the payload (an attempt).
 */
export interface JobDefinition<T, A extends unknown[] = []> {
  readonly queue: QueueName;
  readonly name: string;
  /** The job id (makes adding idempotent); none: BullMQ numbers the job. */
  readonly jobId?: (data: T, ...args: A) => string;
  /** Options of this job over DEFAULT_JOB_OPTIONS (the queue's defaults). */
  readonly options?: JobsOptions;
}

/** Every job declared with defineJob, by queue (a worker must handle all of its queue's jobs). */
const declared = new Map<QueueName, Map<string, JobDefinition<never, never>>>();

/** Declares a job. A queue's job names are unique; declaring one name twice is a programming error. */
export function defineJob<T, A extends unknown[] = []>(definition: JobDefinition<T, A>): JobDefinition<T, A> {
  const jobs = declared.get(definition.queue) ?? new Map<string, JobDefinition<never, never>>();
  if (jobs.has(definition.name)) {
    throw new Error(`Job "${definition.name}" is declared twice on queue "${definition.queue}"`);
  }
  jobs.set(definition.name, definition as unknown as JobDefinition<never, never>);
  declared.set(definition.queue, jobs);
  return definition;
}

/** The job names declared on a queue. */
export function jobNamesOf(queue: QueueName): string[] {
  return [...(declared.get(queue)?.keys() ?? [])];
}

/** Runs one job; its return value is the job's result. */
export type JobRun<T> = (job: Job<T>, token?: string) => Promise<unknown>;

export interface JobHandler {
  readonly definition: JobDefinition<never, never>;
  readonly run: JobRun<never>;
}

/** Pairs a job with the function that runs it (typed by the job's payload). */
export function handle<T, A extends unknown[]>(definition: JobDefinition<T, A>, run: JobRun<T>): JobHandler {
  return { definition: definition as unknown as JobDefinition<never, never>, run: run as JobRun<never> };
}

export class MissingJobHandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingJobHandlerError';
  }
}

/**
 * The handlers of one queue by job name. Throws MissingJobHandlerError when a job declared on the queue has no
 * handler (a worker would fail such jobs one by one at run time), or when a handler is for another queue.
 */
export function handlersByName(queue: QueueName, handlers: readonly JobHandler[]): Map<string, JobRun<never>> {
  const byName = new Map<string, JobRun<never>>();
  for (const handler of handlers) {
    if (handler.definition.queue !== queue) {
      throw new MissingJobHandlerError(`Handler of job "${handler.definition.name}" (queue "${handler.definition.queue}") was given to the worker of queue "${queue}"`);
    }
    byName.set(handler.definition.name, handler.run);
  }
  const missing = jobNamesOf(queue).filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new MissingJobHandlerError(`The worker of queue "${queue}" has no handler for job ${missing.map((name) => `"${name}"`).join(', ')}`);
  }
  return byName;
}
