import { Logger } from '@nestjs/common';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { MODE_MIGRATION_STEP_JOB, modeMigrationStepJobId, QueueName, type ModeMigrationStepJobData } from '@mailwarden/queue';

export interface ModeMigrationQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (tests give each file its own). */
  prefix?: string;
}

/** Producer side of QueueName.ModeMigration: one job per attempt of a step that calls Exchange Online. */
export class ModeMigrationQueue {
  readonly queue: Queue<ModeMigrationStepJobData>;

  constructor(options: ModeMigrationQueueOptions) {
    this.queue = new Queue<ModeMigrationStepJobData>(QueueName.ModeMigration, { connection: options.connection, prefix: options.prefix });
  }

  async enqueue(data: ModeMigrationStepJobData, attempts: number): Promise<void> {
    // One BullMQ attempt: the step itself records a failure (FAILED, lastError) for the admin to retry; a crash
    // (stalled job) is handed to the next worker by BullMQ, and the step is idempotent.
    await this.queue.add(MODE_MIGRATION_STEP_JOB, data, { jobId: modeMigrationStepJobId(data.stepId, attempts), attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface ModeMigrationWorkerOptions extends ModeMigrationQueueOptions {
  /** Steps of different accounts run at once (one account's steps are serialized by its lock; default 2). */
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** Consumer side: runs queued steps through `run` (ModeMigrationRunner.runQueuedStep); re-queues lost ones at start. */
export class ModeMigrationWorker {
  private readonly logger = new Logger(ModeMigrationWorker.name);
  private worker?: Worker<ModeMigrationStepJobData>;

  constructor(
    private readonly run: (data: ModeMigrationStepJobData) => Promise<string>,
    private readonly requeue: () => Promise<number>,
    private readonly options: ModeMigrationWorkerOptions,
  ) {}

  async start(): Promise<void> {
    this.worker = new Worker<ModeMigrationStepJobData>(QueueName.ModeMigration, (job: Job<ModeMigrationStepJobData>) => this.run(job.data), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? 2,
      ...(this.options.lockDurationMs !== undefined ? { lockDuration: this.options.lockDurationMs } : {}),
      ...(this.options.stalledIntervalMs !== undefined ? { stalledInterval: this.options.stalledIntervalMs } : {}),
    });
    this.worker.on('error', (error) => this.logger.warn({ event: 'mode_migration.worker_error', error: error.message }));
    const requeued = await this.requeue();
    this.logger.log({ event: 'mode_migration.worker_started', requeuedSteps: requeued });
  }

  /** Stops at once; a step in flight is taken over by the next worker (as after a crash). */
  async stop(): Promise<void> {
    await this.worker?.close(true);
  }
}
