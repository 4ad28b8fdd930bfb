import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

export interface M365DirectorySyncJobData {
  accountId: string;
  runId?: string;
}

/** A directory sync of one account. Without `runId` (scheduled), the worker records a new run. Job id = run id. */
export const M365DirectorySyncJob = defineJob<M365DirectorySyncJobData>({
  queue: QueueName.M365DirectorySync,
  name: 'm365-directory-sync',
  jobId: (data) => {
    if (!data.runId) {
      throw new Error('An on-demand directory sync needs its run id (scheduled syncs are added by their scheduler)');
    }
    return data.runId;
  },
  options: { ...KEEP, attempts: 1 },
});

/** The job scheduler id of an account's periodic directory sync. */
export const m365DirectorySyncSchedulerId = (accountId: string): string => `m365-directory-sync:${accountId}`;

export interface M365RemediationJobData {
  remediationId: string;
  accountId: string;
}

/** Work through one remediation's mailboxes. Job id = remediation id, so a remediation is queued once. */
export const M365RemediationJob = defineJob<M365RemediationJobData>({
  queue: QueueName.M365Remediation,
  name: 'm365-remediation',
  jobId: (data) => data.remediationId,
  options: { ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 30_000 } },
});
