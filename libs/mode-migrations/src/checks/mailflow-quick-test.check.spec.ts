import type { MailflowQuickTestRecord, StepContext } from '../migration-step.types';
import { checkMailflowQuickTest } from './mailflow-quick-test.check';

describe(checkMailflowQuickTest.name, () => {
  const startedAt = new Date('2026-12-05T12:00:00Z');
  const record = (status: MailflowQuickTestRecord['status'], failedHop: string | null = null): MailflowQuickTestRecord => ({
    id: 'qt-1',
    status,
    failedHop,
    recipient: 'alice@contoso.example',
    exchangeSmtp: 'contoso-example.mail.protection.outlook.com:25',
    internetMessageId: '<mailflow-quick-test-1@mx.example>',
    createdAt: startedAt,
    hops: [
      { hop: 'accepted-by-exchange', status: 'passed', elapsedMs: 40, detail: '250' },
      { hop: 'scanned-by-mailwarden', status: failedHop === 'scanned-by-mailwarden' ? 'failed' : 'passed', elapsedMs: 900, detail: 'the transport rule did not route it' },
    ],
  });
  const context = (quickTest: StepContext['mailflowQuickTest'], firstMessage: Awaited<ReturnType<StepContext['firstMessageSince']>> = null) =>
    ({
      startedAt,
      now: startedAt,
      params: { domains: [{ id: 'd1', name: 'contoso.example', mode: 'GATEWAY' }] },
      mailflowQuickTest: quickTest,
      firstMessageSince: async () => firstMessage,
    }) as unknown as StepContext;

  it('should start one test when none ran since the step (re)started, and wait for it', async () => {
    const started: string[] = [];
    const result = await checkMailflowQuickTest(context({ latest: async () => null, start: async () => (started.push('x'), record('RUNNING')) }));
    expect(started).toHaveLength(1);
    expect(result).toMatchObject({ passed: false, available: true, evidence: { check: 'mailflow-quick-test', quickTestId: 'qt-1', status: 'RUNNING' } });
  });

  it('should read the test it started instead of starting another, pass on PASSED, and name the failed hop on FAILED', async () => {
    const never = async (): Promise<MailflowQuickTestRecord> => {
      throw new Error('must not start a second test');
    };
    const passed = await checkMailflowQuickTest(context({ latest: async () => record('PASSED'), start: never }));
    expect(passed).toMatchObject({ passed: true, available: true, message: expect.stringContaining('accepted-by-exchange after 40 ms') });
    const failed = await checkMailflowQuickTest(context({ latest: async () => record('FAILED', 'scanned-by-mailwarden'), start: never }));
    expect(failed).toMatchObject({ passed: false, available: true, evidence: { failedHop: 'scanned-by-mailwarden' } });
    expect(failed.message).toMatch(/failed at hop scanned-by-mailwarden: the transport rule did not route it; .*retry/);
  });

  it('should keep the manual check (a message through the connector) for an account without a Microsoft 365 connection', async () => {
    const waiting = await checkMailflowQuickTest(context(null));
    expect(waiting).toMatchObject({ passed: false, available: true, evidence: { check: 'mailflow-quick-test', sources: ['MAILFLOW'] } });
    const seen = await checkMailflowQuickTest(context(null, { id: 'm1', receivedAt: startedAt, source: 'MAILFLOW' }));
    expect(seen.passed).toBe(true);
  });
});
