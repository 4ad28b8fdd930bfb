/** A directory sync of one account. Without `runId` (scheduled), the worker records a new run. Job id = run id. */
export const M365_DIRECTORY_SYNC_JOB = 'm365-directory-sync';
export interface M365DirectorySyncJobData {
  accountId: string;
  runId?: string;
}

/** The job scheduler id of an account's periodic directory sync. */
export const m365DirectorySyncSchedulerId = (accountId: string): string => `m365-directory-sync:${accountId}`;

/** Work through one remediation's mailboxes. Job id = remediation id, so a remediation is queued once. */
export const M365_REMEDIATION_JOB = 'm365-remediation';
export interface M365RemediationJobData {
  remediationId: string;
  accountId: string;
}
