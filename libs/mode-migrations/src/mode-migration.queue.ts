import { Logger } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { handle, JobQueue, JobWorkers, ModeMigrationStepJob, QueueName, type ModeMigrationStepJobData } from '@mailwarden/queue';

export interface ModeMigrationQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (tests give each file its own). */
  prefix?: string;
}

/** Producer side of QueueName.ModeMigration: one job per attempt of a step that calls Exchange Online. */
export class ModeMigrationQueue {
  readonly jobs: JobQueue;

  constructor(options: ModeMigrationQueueOptions) {
    this.jobs = new JobQueue(QueueName.ModeMigration, options);
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

  close(): Promise<void> {
    return this.jobs.close();
  }
}

export interface ModeMigrationWorkerOptions extends ModeMigrationQueueOptions {
  /** Steps of different accounts run at once (one account's steps are serialized by its lock; default 2). */
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** The app's JobWorkers (QueueModule); without it (tests) the worker runs on its own. */
  workers?: JobWorkers;
}

/** Consumer side: runs queued steps through `run` (ModeMigrationRunner.runQueuedStep); re-queues lost ones at start. */
export class ModeMigrationWorker {
  private readonly logger = new Logger(ModeMigrationWorker.name);
  private readonly workers: JobWorkers;

  constructor(
    private readonly run: (data: ModeMigrationStepJobData) => Promise<string>,
    private readonly requeue: () => Promise<number>,
    private readonly options: ModeMigrationWorkerOptions,
  ) {
    this.workers = options.workers ?? new JobWorkers(options);
  }

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
