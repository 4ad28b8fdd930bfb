import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

export interface MailflowQuickTestJobData {
  testId: string;
}

/** Send and follow one recorded mailflow quick test (`mailflow_quick_test` row). Job id = `quick-test-<test id>`. */
export const MailflowQuickTestJob = defineJob<MailflowQuickTestJobData>({
  queue: QueueName.M365Mailflow,
  name: 'mailflow-quick-test',
  jobId: (data) => `quick-test-${data.testId}`,
  options: { ...KEEP, attempts: 5, backoff: { type: 'fixed', delay: 1_000 } },
});

export interface MailflowTamperCheckJobData {
  accountId: string;
}

/** Compare what exists in Exchange Online with what Mailwarden created for one account. */
export const MailflowTamperCheckJob = defineJob<MailflowTamperCheckJobData>({
  queue: QueueName.MailflowTamperCheck,
  name: 'mailflow-tamper-check',
  options: { ...KEEP, attempts: 1 },
});

/** The job scheduler id of an account's periodic tamper check. */
export const mailflowTamperCheckSchedulerId = (accountId: string): string => `mailflow-tamper-check:${accountId}`;

/** Give every account with Mailwarden-created Exchange objects its periodic check, and drop the others' (scheduled). */
export const MailflowTamperReconcileJob = defineJob<Record<string, never>>({
  queue: QueueName.MailflowTamperCheck,
  name: 'mailflow-tamper-reconcile',
  options: { ...KEEP, attempts: 1 },
});

/** The one scheduler of MailflowTamperReconcileJob. */
export const MAILFLOW_TAMPER_RECONCILE_SCHEDULER = 'mailflow-tamper-check:reconcile';
