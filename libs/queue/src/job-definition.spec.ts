import {
  DeliveryJob,
  DeliveryStatusJob,
  ExportDestinationJob,
  handle,
  handlersByName,
  jobNamesOf,
  M365DirectorySyncJob,
  M365RemediationJob,
  MailflowQuickTestJob,
  MailflowTamperCheckJob,
  MailflowTamperReconcileJob,
  MimecastPollJob,
  MissingJobHandlerError,
  ModeMigrationStepJob,
  QueueName,
  ScanMessageJob,
} from './index';

describe('job definitions', () => {
  it('should keep the queue and job names on the wire (existing Redis data is read by them)', () => {
    const wire = [ScanMessageJob, DeliveryJob, DeliveryStatusJob, ModeMigrationStepJob, MimecastPollJob, M365DirectorySyncJob, M365RemediationJob, MailflowQuickTestJob, MailflowTamperCheckJob, MailflowTamperReconcileJob, ExportDestinationJob].map(
      (job) => `${job.queue}/${job.name}`,
    );
    expect(wire).toEqual([
      'scan/scan-message',
      'delivery/deliver-message',
      'delivery/delivery-status-notification',
      'mode-migration/mode-migration-step',
      'mimecast-poll/mimecast-poll',
      'm365-directory-sync/m365-directory-sync',
      'm365-remediation/m365-remediation',
      'm365-mailflow/mailflow-quick-test',
      'mailflow-tamper-check/mailflow-tamper-check',
      'mailflow-tamper-check/mailflow-tamper-reconcile',
      'export/export-destination',
    ]);
  });

  it('should declare at least one job on every queue, so every queue has a producer and a consumer to check', () => {
    for (const queue of Object.values(QueueName)) {
      expect([queue, jobNamesOf(queue).length > 0]).toEqual([queue, true]);
    }
  });

  it('should make the same job ids as before', () => {
    expect(ScanMessageJob.jobId!({ messageId: 'm1', accountId: 'a1' })).toBe('m1');
    expect(DeliveryJob.jobId!({ messageId: 'm1', recipients: ['a@b.example'] })).toBe('m1');
    expect(DeliveryJob.jobId!({ messageId: 'm1', recipients: ['a@b.example'], quarantineItemId: 'q1' })).toBe('release-q1');
    const dsn = DeliveryStatusJob.jobId!({ messageId: 'm1', recipients: ['b@x.example', 'a@x.example'] });
    expect(dsn).toMatch(/^dsn-m1-[0-9a-f]{16}$/);
    // One DSN per set of recipients, whatever their order.
    expect(DeliveryStatusJob.jobId!({ messageId: 'm1', recipients: ['a@x.example', 'b@x.example'] })).toBe(dsn);
    expect(ModeMigrationStepJob.jobId!({ accountId: 'a', migrationId: 'm', stepId: 's1', actor: 'x', actorKeyId: null }, 2)).toBe('s1-2');
    expect(M365RemediationJob.jobId!({ accountId: 'a', remediationId: 'r1' })).toBe('r1');
    expect(M365DirectorySyncJob.jobId!({ accountId: 'a', runId: 'run1' })).toBe('run1');
    expect(MailflowQuickTestJob.jobId!({ testId: 't1' })).toBe('quick-test-t1');
  });
});

describe(handlersByName.name, () => {
  const run = async () => 'done';

  it('should refuse a worker that lacks the handler of a job declared on its queue', () => {
    expect(() => handlersByName(QueueName.Delivery, [handle(DeliveryJob, run)])).toThrow(MissingJobHandlerError);
    expect(() => handlersByName(QueueName.Delivery, [handle(DeliveryJob, run)])).toThrow('The worker of queue "delivery" has no handler for job "delivery-status-notification"');
  });

  it('should refuse a handler of another queue', () => {
    expect(() => handlersByName(QueueName.Scan, [handle(ScanMessageJob, run), handle(DeliveryJob, run)])).toThrow(/queue "delivery"\) was given to the worker of queue "scan"/);
  });

  it('should map every job of the queue to its handler', () => {
    expect([...handlersByName(QueueName.Delivery, [handle(DeliveryJob, run), handle(DeliveryStatusJob, run)]).keys()]).toEqual(['deliver-message', 'delivery-status-notification']);
  });
});
