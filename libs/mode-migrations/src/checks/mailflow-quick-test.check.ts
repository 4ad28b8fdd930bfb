import type { CheckResult, MailflowQuickTestRecord, StepContext } from '../migration-step.types';
import { checkPathReceives } from './journal.check';

interface Hop {
  hop: string;
  status: string;
  elapsedMs: number | null;
  detail: string;
}

const evidenceOf = (test: MailflowQuickTestRecord) => ({
  check: 'mailflow-quick-test',
  quickTestId: test.id,
  status: test.status,
  recipient: test.recipient,
  exchangeSmtp: test.exchangeSmtp,
  internetMessageId: test.internetMessageId,
  failedHop: test.failedHop,
  hops: test.hops ?? [],
});

/**
 * The mailflow quick test step (issue 16). With a Microsoft 365 connection the check runs the real test: the first
 * check since the step (re)started records one and queues it (the scanner's mailflow worker sends it into Exchange
 * Online and follows it hop by hop); later checks read it. Passed: every hop seen. Failed: the message names the hop
 * that failed; `retry` runs a new test. Without a connection: a message of the domains must come through the
 * connector (the admin sends it), as before.
 */
export async function checkMailflowQuickTest(context: StepContext): Promise<CheckResult> {
  const quickTest = context.mailflowQuickTest;
  if (!quickTest) {
    return checkPathReceives(context, ['MAILFLOW'], 'mailflow-quick-test', 'send a test message once the transport rule routes mail through Mailwarden');
  }
  const test = (await quickTest.latest(context.startedAt)) ?? (await quickTest.start());
  const hops = (Array.isArray(test.hops) ? test.hops : []) as unknown as Hop[];
  if (test.status === 'RUNNING') {
    return {
      passed: false,
      available: true,
      message: `quick test ${test.id} is running: a message to ${test.recipient} went to Exchange Online (${test.exchangeSmtp}); advance again to read its hops`,
      evidence: evidenceOf(test),
    };
  }
  if (test.status === 'PASSED') {
    return {
      passed: true,
      available: true,
      message: `quick test ${test.id} passed every hop: ${hops.map((hop) => `${hop.hop} after ${hop.elapsedMs} ms`).join(', ')}`,
      evidence: evidenceOf(test),
    };
  }
  const failed = hops.find((hop) => hop.hop === test.failedHop);
  return {
    passed: false,
    available: true,
    message: `quick test ${test.id} failed at hop ${test.failedHop}: ${failed?.detail ?? 'no detail'}; fix it, then retry the step (a new test runs)`,
    evidence: evidenceOf(test),
  };
}
