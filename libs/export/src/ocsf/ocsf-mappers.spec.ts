import path from 'node:path';
import type { ExportedMessage, M365RemediationItem, Message, RemediationWithItems, ThirdPartyAlert, Verdict } from '@mailwarden/db';
import { MIMECAST_MITRE_MAPPING } from '@mailwarden/mimecast';
import { readMessageDetails } from './message-details';
import { controlOutcome, REMEDIATION_MAILBOXES_LISTED, toAlertFinding, toMailflowAlertFinding, toEmailActivity, toMessageFindings, toRemediationActivity } from './ocsf-mappers';
import { OcsfSchema } from './ocsf-validator';

const schema = OcsfSchema.load(OcsfSchema.defaultDir(path.resolve(__dirname, '../../../..')));

const RAW = Buffer.from(
  [
    'From: "Eve" <eve@phish.example>',
    'To: alice@contoso.example, "Bob" <bob@contoso.example>',
    'Cc: carol@contoso.example',
    'Reply-To: collect@phish.example',
    'Subject: Invoice overdue',
    'Message-ID: <abc123@phish.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Pay at <a href="https://pay.phish.example/login?id=1&amp;x=2">here</a> or http://other.example/path.</p>',
    '--b1',
    'Content-Type: application/pdf; name="invoice.pdf"',
    'Content-Disposition: attachment; filename="invoice.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4 fake').toString('base64'),
    '--b1--',
    '',
  ].join('\r\n'),
);

const at = new Date('2026-12-05T10:00:00.000Z');

function message(overrides: Partial<Message> = {}): Message {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    accountId: '22222222-2222-4222-8222-222222222222',
    source: 'JOURNAL',
    direction: 'INBOUND',
    envelopeFrom: 'bounce@phish.example',
    envelopeTo: ['alice@contoso.example', 'bob@contoso.example'],
    headerFrom: 'eve@phish.example',
    subject: 'Invoice overdue',
    messageIdHeader: '<abc123@phish.example>',
    size: RAW.byteLength,
    clientIp: '203.0.113.9',
    helo: 'mx.phish.example',
    receivedAt: at,
    rawMessageId: '33333333-3333-4333-8333-333333333333',
    dedupKey: null,
    scanStatus: 'SCANNED',
    scannedAt: at,
    scanAttempts: 1,
    scanError: null,
    deliveryState: 'NOT_APPLICABLE',
    metadata: {},
    envelopeFromDomain: 'phish.example',
    headerFromDomain: 'phish.example',
    ...overrides,
  };
}

const checks = [
  { check: 'dmarc', status: 'fail', evidence: { result: 'fail', policy: 'reject', arc: { result: 'pass', trustedSealer: false, overridesDmarcFailure: false, sealer: 'relay.example' } } },
  { check: 'spf', status: 'pass', evidence: { result: 'pass', domain: 'phish.example' } },
  { check: 'dkim', status: 'fail', evidence: { signatures: [{ domain: 'phish.example', selector: 's1', algorithm: 'rsa-sha256', result: 'fail' }] } },
  { check: 'header-anomaly', status: 'not-run' },
];

function verdict(recipient: string, decided: Verdict['decidedAction'], applied: Verdict['appliedAction'], reasons: unknown[] = []): Verdict {
  return {
    id: `v-${recipient}`,
    messageId: '11111111-1111-4111-8111-111111111111',
    recipient,
    checks,
    failedCheck: reasons.length > 0 ? 'dmarc' : null,
    decidedAction: decided,
    appliedAction: applied,
    enforced: applied !== null,
    reasons: reasons as Verdict['reasons'],
    skippedReason: null,
    createdAt: at,
  };
}

const DMARC_REASON = { kind: 'sender-check', source: 'dmarc', action: 'REJECT', detail: 'dmarc=fail' };
const RULE_REASON = { kind: 'data-control', source: 'rule-cards', action: 'QUARANTINE', detail: 'card number in body' };

function alert(alertType: string, mitreId: string | null, logType = 'url'): ThirdPartyAlert {
  return {
    id: '44444444-4444-4444-8444-444444444444',
    accountId: '22222222-2222-4222-8222-222222222222',
    source: 'MIMECAST',
    logType,
    alertType,
    mitreId,
    mitreName: mitreId ? 'x' : null,
    occurredAt: at,
    sender: 'eve@phish.example',
    recipient: 'alice@contoso.example',
    subject: 'Invoice',
    url: logType === 'url' ? 'https://bad.example/x' : null,
    fileName: logType === 'attachment' ? 'invoice.xlsm' : null,
    messageIdHeader: '<m@phish.example>',
    raw: {},
    dedupHash: 'h',
    createdAt: at,
  };
}

describe('OCSF mappers', () => {
  let details: Awaited<ReturnType<typeof readMessageDetails>>;

  beforeAll(async () => {
    details = await readMessageDetails(RAW);
  });

  it('should read header recipients, attachment hashes and linked URLs from the raw message', () => {
    expect(details.to).toEqual(['alice@contoso.example', 'bob@contoso.example']);
    expect(details.cc).toEqual(['carol@contoso.example']);
    expect(details.files).toEqual([{ name: 'invoice.pdf', size: 13, mimeType: 'application/pdf', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(details.urls).toEqual(['https://pay.phish.example/login?id=1&x=2', 'http://other.example/path']);
  });

  it('should map a monitor-only journal copy to a valid Email Activity: Scan, Detected and never Blocked', () => {
    const exported: ExportedMessage = { message: message(), verdicts: [verdict('alice@contoso.example', 'REJECT', null, [DMARC_REASON]), verdict('bob@contoso.example', 'DELIVER', null)], raw: RAW };
    const { event, actionable } = toEmailActivity(exported, details, '0.1.0');
    expect(schema.validate(event)).toEqual([]);
    expect(actionable).toBe(true);
    expect(event).toMatchObject({
      class_uid: 4009,
      activity_id: 3,
      type_uid: 400903,
      direction_id: 1,
      action_id: 3,
      disposition_id: 15,
      severity_id: 4,
      email: { from: 'eve@phish.example', cc: ['carol@contoso.example'], message_uid: '<abc123@phish.example>', subject: 'Invoice overdue', size: RAW.byteLength },
      email_auth: { spf: 'pass', dkim: 'fail', dkim_domain: 'phish.example', dmarc: 'fail', dmarc_policy: 'reject' },
      src_endpoint: { ip: '203.0.113.9', hostname: 'mx.phish.example' },
      policy: { name: 'Email Security', uid: 'dmarc', is_applied: false },
      metadata: { version: '1.8.0', product: { name: 'Mailwarden' }, profiles: ['security_control'] },
      unmapped: { arc: { sealer: 'relay.example' } },
    });
    expect((event.email as { files: unknown[] }).files).toEqual([expect.objectContaining({ name: 'invoice.pdf', hashes: [expect.objectContaining({ algorithm_id: 3 })] })]);
    const observed = (event.observables as Array<{ type_id: number; value: string }>).map((entry) => [entry.type_id, entry.value]);
    expect(observed).toEqual(expect.arrayContaining([[5, 'eve@phish.example'], [2, '203.0.113.9'], [6, 'https://pay.phish.example/login?id=1&x=2'], [8, details.files[0]!.sha256]]));
    // The same message gives the same uid (receivers deduplicate on it).
    expect(toEmailActivity(exported, details, '0.1.0').event.metadata.uid).toBe(event.metadata.uid);
  });

  it('should map each decided/applied pair to its control outcome; only applied actions block', () => {
    expect(controlOutcome('DELIVER', null)).toMatchObject({ action_id: 3, disposition_id: 17 });
    for (const decided of ['TAG_SUBJECT', 'QUARANTINE', 'REJECT'] as const) {
      expect(controlOutcome(decided, null)).toMatchObject({ action_id: 3, disposition_id: 15 });
    }
    expect(controlOutcome('DELIVER', 'DELIVER')).toMatchObject({ action_id: 1, disposition_id: 1 });
    expect(controlOutcome('TAG_SUBJECT', 'TAG_SUBJECT')).toMatchObject({ action_id: 4, disposition_id: 18 });
    expect(controlOutcome('QUARANTINE', 'QUARANTINE')).toMatchObject({ action_id: 2, disposition_id: 3 });
    expect(controlOutcome('REJECT', 'REJECT')).toMatchObject({ action_id: 2, disposition_id: 25 });
  });

  it('should map an enforced gateway message to Email Activity: Receive, and skipped mail without checks', () => {
    const gateway = toEmailActivity({ message: message({ source: 'GATEWAY' }), verdicts: [verdict('alice@contoso.example', 'QUARANTINE', 'QUARANTINE', [RULE_REASON])], raw: RAW }, details, '0.1.0');
    expect(schema.validate(gateway.event)).toEqual([]);
    expect(gateway.event).toMatchObject({ activity_id: 2, activity_name: 'Receive', action_id: 2, disposition_id: 3, policy: { name: 'Data Control', is_applied: true } });
    const internal = toEmailActivity(
      { message: message({ direction: 'INTERNAL', clientIp: null, helo: null, envelopeFrom: '', headerFrom: 'odd@localhost', subject: null, messageIdHeader: null, scanStatus: 'SKIPPED' }), verdicts: [{ ...verdict('alice@contoso.example', 'DELIVER', null), checks: [] }], raw: null },
      { to: [], cc: [], replyTo: null, files: [], urls: [] },
      '0.1.0',
    );
    expect(schema.validate(internal.event)).toEqual([]);
    expect(internal.event).toMatchObject({ direction_id: 3, disposition_id: 17, unmapped: { addresses_not_email_t: ['odd@localhost'] } });
    expect(internal.actionable).toBe(false);
  });

  it('should make a valid Detection Finding for each failed sender check and data-control hit', () => {
    const exported: ExportedMessage = {
      message: message({ source: 'GATEWAY' }),
      verdicts: [verdict('alice@contoso.example', 'REJECT', 'REJECT', [DMARC_REASON, RULE_REASON]), verdict('bob@contoso.example', 'REJECT', 'REJECT', [DMARC_REASON])],
      raw: RAW,
    };
    const findings = toMessageFindings(exported, details, '0.1.0');
    expect(findings).toHaveLength(2);
    for (const { event } of findings) {
      expect(schema.validate(event)).toEqual([]);
      expect(event).toMatchObject({ class_uid: 2004, activity_id: 1, type_uid: 200401, is_alert: true });
    }
    expect(findings[0]!.event.finding_info).toMatchObject({ title: expect.stringMatching(/^DMARC failed/), attacks: [{ technique: { uid: 'T1566' }, tactic: { uid: 'TA0001' } }] });
    expect(findings[1]!.event.finding_info).toMatchObject({ attacks: [{ technique: { uid: 'T1048' }, tactic: { uid: 'TA0010' } }] });
    expect(new Set(findings.map(({ event }) => event.metadata.uid)).size).toBe(2);
  });

  it('should make a valid Detection Finding with the table technique for every Mimecast alert type', () => {
    for (const [alertType, technique] of MIMECAST_MITRE_MAPPING) {
      const { event } = toAlertFinding(alert(alertType, technique.id), '0.1.0');
      expect([alertType, schema.validate(event)]).toEqual([alertType, []]);
      const [attack] = (event.finding_info as { attacks: Array<Record<string, { uid: string }>> }).attacks;
      const found = [attack!.sub_technique?.uid, attack!.technique?.uid, attack!.tactic?.uid];
      expect([alertType, found]).toEqual([alertType, expect.arrayContaining([technique.id])]);
      expect(attack!.tactic).toBeDefined();
    }
    const impersonation = toAlertFinding(alert('Impersonation Attempt', 'T1598.003', 'impersonation'), '0.1.0').event;
    expect(impersonation.finding_info).toMatchObject({
      uid: '44444444-4444-4444-8444-444444444444',
      title: 'Impersonation Attempt',
      attacks: [{ tactic: { uid: 'TA0043', name: 'Reconnaissance' }, technique: { uid: 'T1598' }, sub_technique: { uid: 'T1598.003', name: 'Spearphishing Link' } }],
    });
    const unmapped = toAlertFinding(alert('Something new', null), '0.1.0').event;
    expect(schema.validate(unmapped)).toEqual([]);
    expect((unmapped.finding_info as Record<string, unknown>).attacks).toBeUndefined();
  });
});

function remediation(action: RemediationWithItems['action'], statuses: Array<M365RemediationItem['status']>, overrides: Partial<RemediationWithItems> = {}): RemediationWithItems {
  const id = '55555555-5555-4555-8555-555555555555';
  return {
    id,
    accountId: '22222222-2222-4222-8222-222222222222',
    action,
    status: 'COMPLETED',
    restoreOf: null,
    criteria: { messageIds: ['11111111-1111-4111-8111-111111111111'] },
    requestedBy: 'admin@contoso.example',
    requestedByKeyId: null,
    leaseOwner: null,
    leaseUntil: null,
    createdAt: at,
    updatedAt: new Date(at.getTime() + 4000),
    finishedAt: new Date(at.getTime() + 4000),
    items: statuses.map((status, index) => ({
      id: `66666666-6666-4666-8666-${String(index).padStart(12, '0')}`,
      remediationId: id,
      messageId: '11111111-1111-4111-8111-111111111111',
      recipient: `user${index}@contoso.example`,
      internetMessageId: '<abc123@phish.example>',
      status,
      graphMessageId: status === 'COMPLETED' ? `AAMk${index}` : null,
      errorCode: status === 'FAILED' ? 'ErrorAccessDenied' : null,
      errorMessage: status === 'FAILED' ? 'Access is denied.' : null,
      attempts: 1,
      updatedAt: at,
    })),
    ...overrides,
  };
}

describe(toRemediationActivity.name, () => {
  it('should map a finished clawback to one valid Remediation Activity: Evict with its status and per-mailbox outcomes', () => {
    const { event, actionable } = toRemediationActivity(remediation('MOVE_TO_DELETED_ITEMS', ['COMPLETED', 'ALREADY_IN_DESTINATION', 'NOT_FOUND', 'FAILED'], { status: 'COMPLETED_WITH_ERRORS' }), '0.1.0');
    expect(schema.validate(event)).toEqual([]);
    expect(actionable).toBe(true);
    expect(event).toMatchObject({
      class_uid: 7001,
      category_uid: 7,
      activity_id: 2,
      activity_name: 'Evict',
      type_uid: 700102,
      status_id: 4,
      status: 'Partial',
      status_code: 'COMPLETED_WITH_ERRORS',
      severity_id: 3,
      command_uid: '55555555-5555-4555-8555-555555555555',
      time: at.getTime() + 4000,
      countermeasures: [{ d3f_tactic: { name: 'Evict' }, d3f_technique: { uid: 'D3-ER', name: 'Email Removal' } }],
      metadata: { version: '1.8.0', tenant_uid: '22222222-2222-4222-8222-222222222222', log_name: 'm365-remediation' },
      unmapped: { action: 'MOVE_TO_DELETED_ITEMS', mailbox_counts: { total: 4, COMPLETED: 1, ALREADY_IN_DESTINATION: 1, NOT_FOUND: 1, FAILED: 1 } },
    });
    const mailboxes = (event.unmapped as { mailboxes: Array<Record<string, string>> }).mailboxes;
    expect(mailboxes[0]).toEqual({ recipient: 'user3@contoso.example', message_uid: '<abc123@phish.example>', message_id: '11111111-1111-4111-8111-111111111111', status: 'FAILED', error_code: 'ErrorAccessDenied', error_message: 'Access is denied.' });
    expect(mailboxes.map((mailbox) => mailbox.status).sort()).toEqual(['ALREADY_IN_DESTINATION', 'COMPLETED', 'FAILED', 'NOT_FOUND']);
    // The class's own requirements are checked: its required command_uid and its status_id enum.
    const broken = { ...event, status_id: 7 } as Record<string, unknown>;
    delete broken.command_uid;
    expect(schema.validate(broken).map((error) => error.path).sort()).toEqual(['command_uid', 'status_id']);
    // The same remediation always gives the same uid; another one another uid.
    expect(toRemediationActivity(remediation('MOVE_TO_DELETED_ITEMS', ['COMPLETED']), '0.1.0').event.metadata.uid).toBe(event.metadata.uid);
    expect(toRemediationActivity(remediation('MOVE_TO_DELETED_ITEMS', ['COMPLETED'], { id: '77777777-7777-4777-8777-777777777777' }), '0.1.0').event.metadata.uid).not.toBe(event.metadata.uid);
  });

  it('should map each overall outcome and a restore to their schema enums', () => {
    const cases: Array<[RemediationWithItems, { activity_id: number; status_id: number; severity_id: number }]> = [
      [remediation('HARD_DELETE', ['COMPLETED', 'COMPLETED']), { activity_id: 2, status_id: 1, severity_id: 1 }],
      [remediation('SOFT_DELETE', ['FAILED', 'FAILED'], { status: 'FAILED' }), { activity_id: 2, status_id: 2, severity_id: 3 }],
      [remediation('MOVE_TO_JUNK', ['NOT_FOUND', 'NOT_FOUND']), { activity_id: 2, status_id: 3, severity_id: 1 }],
      [remediation('RESTORE_TO_INBOX', ['COMPLETED'], { restoreOf: '88888888-8888-4888-8888-888888888888' }), { activity_id: 3, status_id: 1, severity_id: 1 }],
    ];
    for (const [input, expected] of cases) {
      const { event } = toRemediationActivity(input, '0.1.0');
      expect([input.action, schema.validate(event)]).toEqual([input.action, []]);
      expect([input.action, event]).toEqual([input.action, expect.objectContaining(expected)]);
    }
    const restore = toRemediationActivity(cases[3]![0], '0.1.0').event;
    expect(restore).toMatchObject({ activity_name: 'Restore', countermeasures: [{ d3f_technique: { uid: 'D3-RE' } }], metadata: { correlation_uid: '88888888-8888-4888-8888-888888888888' } });
  });

  it('should keep a huge remediation to a bounded event: every mailbox counted, the failures listed first', () => {
    const statuses = Array.from({ length: 5000 }, (_, index): M365RemediationItem['status'] => (index % 1000 === 999 ? 'FAILED' : 'COMPLETED'));
    const { event } = toRemediationActivity(remediation('SOFT_DELETE', statuses, { status: 'COMPLETED_WITH_ERRORS' }), '0.1.0');
    expect(schema.validate(event)).toEqual([]);
    const unmapped = event.unmapped as { mailboxes: Array<{ status: string }>; mailbox_counts: Record<string, number>; mailboxes_omitted: number };
    expect(unmapped.mailboxes).toHaveLength(REMEDIATION_MAILBOXES_LISTED);
    expect(unmapped.mailboxes.slice(0, 5).every((mailbox) => mailbox.status === 'FAILED')).toBe(true);
    expect(unmapped).toMatchObject({ mailbox_counts: { total: 5000, COMPLETED: 4995, FAILED: 5 }, mailboxes_omitted: 4900 });
    expect(JSON.stringify(event).length).toBeLessThan(40_000);
  });
});

describe(OcsfSchema.name, () => {
  const valid = () => toAlertFinding(alert('Impersonation Attempt', 'T1598.003', 'impersonation'), '0.1.0').event as Record<string, unknown>;

  it('should report a missing required attribute, a wrong type, an unknown enum value and an unknown attribute', () => {
    const event = valid();
    delete event.time;
    event.severity_id = 42;
    (event.finding_info as Record<string, unknown>).uid = 7;
    event.surprise = true;
    expect(schema.validate(event).map((error) => error.path).sort()).toEqual(['finding_info.uid', 'severity_id', 'surprise', 'time']);
  });

  it('should report a deprecated attribute, a broken email_t, a wrong sibling caption, class arithmetic and the schema version', () => {
    const event = valid();
    event.smtp_hello = 'x';
    ((event.evidences as Array<{ email: Record<string, unknown> }>)[0]!.email).from = 'not an address';
    event.severity = 'Critical';
    event.type_uid = 400901;
    (event.metadata as Record<string, unknown>).version = '1.7.0';
    const paths = schema.validate(event).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining(['smtp_hello', 'evidences[0].email.from', 'severity', 'type_uid', 'metadata.version']));
  });

  it('should refuse an unknown class and a constraint left unmet', () => {
    expect(schema.validate({ class_uid: 1234 })).toEqual([{ path: 'class_uid', message: 'unknown class_uid 1234' }]);
    const event = valid();
    (event.evidences as unknown[])[0] = { email: { subject: 'only a subject' } };
    expect(schema.validate(event).map((error) => error.message)).toEqual([expect.stringContaining('email needs at least one of from, to')]);
  });
});

describe(toMailflowAlertFinding.name, () => {
  const payload = {
    alertId: '77777777-7777-4777-8777-777777777777',
    accountId: '22222222-2222-4222-8222-222222222222',
    domains: ['contoso.example'],
    createdAt: '2026-12-05T12:00:00.000Z',
    differences: [{ kind: 'OUTBOUND_CONNECTOR', name: 'Mailwarden - 22222222 - Outbound', problem: 'disabled', property: 'Enabled', description: 'OUTBOUND_CONNECTOR Mailwarden - 22222222 - Outbound is disabled (Enabled false)' }],
  };

  it('should make a valid High Detection Finding for tampering and a valid Close when it clears', () => {
    const detected = toMailflowAlertFinding({ ...payload, kind: 'TAMPER_DETECTED' }, '0.1.0');
    expect(schema.validate(detected.event)).toEqual([]);
    expect(detected).toMatchObject({ actionable: true, event: { class_uid: 2004, activity_id: 1, severity_id: 4, is_alert: true, finding_info: { uid: payload.alertId, desc: expect.stringContaining('is disabled') } } });
    const cleared = toMailflowAlertFinding({ ...payload, kind: 'TAMPER_CLEARED', differences: [] }, '0.1.0');
    expect(schema.validate(cleared.event)).toEqual([]);
    expect(cleared).toMatchObject({ actionable: false, event: { activity_id: 3, type_uid: 200403, severity_id: 1, is_alert: false } });
  });
});
