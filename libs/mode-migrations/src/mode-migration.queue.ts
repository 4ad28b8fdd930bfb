import { Logger } from '@nestjs/common';
import { handle, JobQueue, JobQueues, JobWorkers, ModeMigrationStepJob, QueueName, type ModeMigrationStepJobData } from '@mailwarden/queue';

/**
 * Producer side of QueueName.ModeMigration: one job per attempt of a step that calls Exchange Online. On the app's
 * JobQueues (QueueModule: its connection, prefix and job defaults; it closes the queue).
 */
export class ModeMigrationQueue {
  readonly jobs: JobQueue;

  constructor(queues: JobQueues) {
    this.jobs = queues.get(QueueName.ModeMigration);
  }

  get queue() {
    return this.jobs.queue;
  }

  async enqueue(data: ModeMigrationStepJobData, attempts: number): Promise<void> {
    const jobId = ModeMigrationStepJob.jobId!(data, attempts);
    // The step is still RUNNING, so a finished job of this attempt did not record it (the worker lost its database
    // mid-way): run it again. A waiting or active job is left as it is (same id: BullMQ adds nothing).
    const existing = await this.queue.getJob(jobId);
    if (existing && (await existing.isFailed())) {
      await existing.retry();
      return;
    }
    if (existing && (await existing.isCompleted())) {
      await existing.remove();
    }
    await this.jobs.add(ModeMigrationStepJob, data, attempts);
  }
}

export interface ModeMigrationWorkerOptions {
  /** Steps of different accounts run at once (one account's steps are serialized by its lock; default 2). */
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** Consumer side: runs queued steps through `run` (ModeMigrationRunner.runQueuedStep); re-queues lost ones at start. */
export class ModeMigrationWorker {
  private readonly logger = new Logger(ModeMigrationWorker.name);

  /** `workers`: the app's JobWorkers (QueueModule). */
  constructor(
    private readonly run: (data: ModeMigrationStepJobData) => Promise<string>,
    private readonly requeue: () => Promise<number>,
    private readonly workers: JobWorkers,
    private readonly options: ModeMigrationWorkerOptions = {},
  ) {}

  async start(): Promise<void> {
    this.workers.start(QueueName.ModeMigration, [handle(ModeMigrationStepJob, (job) => this.run(job.data))], {
      concurrency: this.options.concurrency ?? 2,
      forceClose: true,
      ...(this.options.lockDurationMs !== undefined ? { lockDuration: this.options.lockDurationMs } : {}),
      ...(this.options.stalledIntervalMs !== undefined ? { stalledInterval: this.options.stalledIntervalMs } : {}),
    });
    const requeued = await this.requeue();
    this.logger.log({ event: 'mode_migration.worker_started', requeuedSteps: requeued });
  }

  /** Stops at once; a step in flight is taken over by the next worker (as after a crash). */
  async stop(): Promise<void> {
    await this.workers.stop(QueueName.ModeMigration);
  }
}
