/** Send and follow one recorded mailflow quick test (`mailflow_quick_test` row). Job id = `quick-test-<test id>`. */
export const MAILFLOW_QUICK_TEST_JOB = 'mailflow-quick-test';
export interface MailflowQuickTestJobData {
  testId: string;
}

/** Compare what exists in Exchange Online with what Mailwarden created for one account. */
export const MAILFLOW_TAMPER_CHECK_JOB = 'mailflow-tamper-check';
export interface MailflowTamperCheckJobData {
  accountId: string;
}

/** The job scheduler id of an account's periodic tamper check. */
export const mailflowTamperCheckSchedulerId = (accountId: string): string => `mailflow-tamper-check:${accountId}`;
