import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { Microsoft365Repository } from '@mailwarden/db';
import { handle, JobWorkers, M365DirectorySyncJob, M365RemediationJob, QueueName, type M365RemediationJobData } from '@mailwarden/queue';
import { DirectorySyncService } from './directory-sync.service';
import { Microsoft365Queues } from './microsoft365-queues';
import { Microsoft365Service } from './microsoft365.service';
import { RemediationService } from './remediation.service';

export interface Microsoft365WorkerOptions {
  /** Remediations worked on at once by this process (default 2). */
  remediationConcurrency?: number;
  /** How long a job's lock lasts without renewal; a crashed worker's job is taken over after it (BullMQ default 30 s). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  directorySyncMinutes?: number;
}

/**
 * The scanner's Microsoft 365 workers: directory syncs and remediations. `stop()` aborts work in flight as a crash
 * would (nothing more is recorded); BullMQ hands a stalled remediation to the next worker, which resumes it from the
 * items' states. `start()` also re-queues remediations a dead process left unfinished and re-asserts every
 * connected account's sync schedule.
 */
export class Microsoft365Workers {
  private readonly logger = new Logger(Microsoft365Workers.name);
  private readonly abort = new AbortController();

  /** `workers`: the app's JobWorkers (QueueModule). */
  constructor(
    private readonly directorySync: DirectorySyncService,
    private readonly remediations: RemediationService,
    private readonly repository: Microsoft365Repository,
    private readonly queues: Microsoft365Queues,
    private readonly microsoft365: Microsoft365Service,
    private readonly workers: JobWorkers,
    private readonly options: Microsoft365WorkerOptions = {},
  ) {}

  async start(): Promise<void> {
    const common = {
      forceClose: true,
      // Given only when set: an undefined value would replace BullMQ's default and be refused.
      ...(this.options.lockDurationMs !== undefined ? { lockDuration: this.options.lockDurationMs } : {}),
      ...(this.options.stalledIntervalMs !== undefined ? { stalledInterval: this.options.stalledIntervalMs } : {}),
    };
    this.workers.start(QueueName.M365DirectorySync, [handle(M365DirectorySyncJob, async (job) => (await this.directorySync.run(job.data.accountId, job.data.runId)).status)], {
      ...common,
      concurrency: 1,
    });
    this.workers.start(QueueName.M365Remediation, [handle(M365RemediationJob, (job) => this.processRemediation(job))], {
      ...common,
      concurrency: this.options.remediationConcurrency ?? 2,
    });
    const unfinished = await this.repository.unfinishedRemediationIds();
    for (const { id, accountId } of unfinished) {
      await this.queues.enqueueRemediation(accountId, id); // same job id: ignored while the job still exists
    }
    if (this.microsoft365.isConfigured) {
      for (const connection of await this.repository.listConnections()) {
        await this.queues.scheduleSync(connection.accountId, this.options.directorySyncMinutes ?? 360);
      }
    }
    this.logger.log({ event: 'microsoft365.worker_started', requeuedRemediations: unfinished.length });
  }

  private async processRemediation(job: Job<M365RemediationJobData>): Promise<string> {
    try {
      return await this.remediations.process(job.data.remediationId, this.abort.signal);
    } catch (error) {
      if (this.abort.signal.aborted) {
        // Stopped mid-way: report nothing to BullMQ, exactly as a dead process would not; the job's lock runs out and
        // the next worker resumes the remediation from its items.
        return new Promise<string>(() => undefined);
      }
      throw error;
    }
  }

  /** Stops at once, leaving jobs in flight to be taken over (as a crash would). */
  async stop(): Promise<void> {
    this.abort.abort(new Error('worker stopped'));
    await Promise.all([this.workers.stop(QueueName.M365DirectorySync), this.workers.stop(QueueName.M365Remediation)]);
  }
}
