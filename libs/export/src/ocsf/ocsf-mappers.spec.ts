import path from 'node:path';
import type { ExportedMessage, Message, ThirdPartyAlert, Verdict } from '@mailwarden/db';
import { MIMECAST_MITRE_MAPPING } from '@mailwarden/mimecast';
import { readMessageDetails } from './message-details';
import { controlOutcome, toAlertFinding, toEmailActivity, toMessageFindings } from './ocsf-mappers';
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
    deliveryState: 'NOT_APPLICABLE',
    metadata: {},
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
