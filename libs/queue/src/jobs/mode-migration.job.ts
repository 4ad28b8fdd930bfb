import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

/** Payload of one queued step of an account mode migration (a step that calls Exchange Online). */
export interface ModeMigrationStepJobData {
  accountId: string;
  migrationId: string;
  stepId: string;
  /** Who asked (audit): the admin whose advance / retry queued the step. */
  actor: string;
  actorKeyId: string | null;
}

/**
 * One step attempt. Job id = `<step id>-<attempts>`: queued once per attempt, so a second `advance` while the job
 * waits adds nothing, and a retry gets a new job. One BullMQ attempt: the step records its own failure for the
 * admin to retry; a crash (stalled job) is handed to the next worker, and the step is idempotent.
 */
export const ModeMigrationStepJob = defineJob<ModeMigrationStepJobData, [attempts: number]>({
  queue: QueueName.ModeMigration,
  name: 'mode-migration-step',
  jobId: (data, attempts) => `${data.stepId}-${attempts}`,
  options: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
});
