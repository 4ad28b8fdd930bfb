/**
 * One queued step of an account mode migration (a step that calls Exchange Online). Job id = `<step id>-<attempts>`:
 * queued once per attempt, so a second `advance` while the job waits adds nothing, and a retry gets a new job.
 */
export const MODE_MIGRATION_STEP_JOB = 'mode-migration-step';
export interface ModeMigrationStepJobData {
  accountId: string;
  migrationId: string;
  stepId: string;
  /** Who asked (audit): the admin whose advance / retry queued the step. */
  actor: string;
  actorKeyId: string | null;
}

export const modeMigrationStepJobId = (stepId: string, attempts: number): string => `${stepId}-${attempts}`;
