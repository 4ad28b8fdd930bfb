import type { ExportedMessage, M365RemediationItemStatus, PolicyAction, RemediationWithItems, ThirdPartyAlert, Verdict } from '@mailwarden/db';
import { mitreFor, mitreTacticFor, type MitreTechnique } from '@mailwarden/mimecast';
import type { MessageDetails } from './message-details';
import {
  ACTION,
  ACTION_NAMES,
  DETECTION_FINDING_CLASS_UID,
  DISPOSITION,
  DISPOSITION_NAMES,
  EMAIL_ACTIVITY_CLASS_UID,
  isOcsfEmail,
  OBSERVABLE,
  OCSF_CLASSES,
  OCSF_VERSION,
  PRODUCT,
  REMEDIATION_ACTIVITY_CLASS_UID,
  SEVERITY,
  SEVERITY_NAMES,
  stableUid,
  type OcsfClassUid,
} from './ocsf.constants';

/** One OCSF event as sent (a JSON object). `class_uid`, `severity_id` and `metadata.uid` are always set. */
export type OcsfEvent = Record<string, unknown> & { class_uid: number; severity_id: number; metadata: { uid: string } & Record<string, unknown> };

/** An event with what destination filters look at besides the event itself. */
export interface MappedEvent {
  event: OcsfEvent;
  /** Something was decided against the message (decided action ≠ deliver), or a finding. */
  actionable: boolean;
}

const ACTION_RANK: Record<PolicyAction, number> = { DELIVER: 0, TAG_SUBJECT: 1, QUARANTINE: 2, REJECT: 3 };
const SEVERITY_OF_ACTION: Record<PolicyAction, number> = { DELIVER: SEVERITY.Informational, TAG_SUBJECT: SEVERITY.Low, QUARANTINE: SEVERITY.Medium, REJECT: SEVERITY.High };
const DIRECTION = { INBOUND: [1, 'Inbound'], OUTBOUND: [2, 'Outbound'], INTERNAL: [3, 'Internal'], EXTERNAL: [99, 'Other'] } as const;

/**
 * security_control outcome of one decision. Only an applied action blocks, quarantines or tags; a decision that was
 * only recorded (monitor-only, journal copies) is Observed: Logged when it would have delivered, Detected otherwise.
 */
export function controlOutcome(decided: PolicyAction, applied: PolicyAction | null): { action_id: number; action: string; disposition_id: number; disposition: string } {
  const pick = (action: number, disposition: number) => ({ action_id: action, action: ACTION_NAMES[action]!, disposition_id: disposition, disposition: DISPOSITION_NAMES[disposition]! });
  if (applied === null) {
    return decided === 'DELIVER' ? pick(ACTION.Observed, DISPOSITION.Logged) : pick(ACTION.Observed, DISPOSITION.Detected);
  }
  switch (applied) {
    case 'DELIVER':
      return pick(ACTION.Allowed, DISPOSITION.Allowed);
    case 'TAG_SUBJECT':
      return pick(ACTION.Modified, DISPOSITION.Tagged);
    case 'QUARANTINE':
      return pick(ACTION.Denied, DISPOSITION.Quarantined);
    case 'REJECT':
      return pick(ACTION.Denied, DISPOSITION.Rejected);
  }
}

function classFields(classUid: OcsfClassUid, activityId: number, activityName: string) {
  const cls = OCSF_CLASSES[classUid];
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    class_uid: classUid,
    class_name: cls.name,
    type_uid: classUid * 100 + activityId,
    type_name: `${cls.name}: ${activityName}`,
  };
}

function metadata(uid: string, accountId: string, logName: string, correlationUid: string, productVersion: string) {
  return {
    uid,
    version: OCSF_VERSION,
    product: { ...PRODUCT, version: productVersion },
    profiles: ['security_control'],
    tenant_uid: accountId,
    log_name: logName,
    correlation_uid: correlationUid,
  };
}

function observables(entries: Array<[name: string, type: keyof typeof OBSERVABLE, value: string | null | undefined]>) {
  const seen = new Set<string>();
  const list: Array<{ name: string; type: string; type_id: number; value: string }> = [];
  for (const [name, type, value] of entries) {
    if (value && !seen.has(`${name}\u0000${value}`)) {
      seen.add(`${name}\u0000${value}`);
      list.push({ name, type, type_id: OBSERVABLE[type], value });
    }
  }
  return list;
}

const emails = (values: readonly string[]) => values.filter(isOcsfEmail);
const invalidEmails = (values: readonly (string | null)[]) => values.filter((value): value is string => Boolean(value) && !isOcsfEmail(value));

/** An HELO that names a host (an address literal such as `[192.0.2.1]` does not). */
const heloHost = (helo: string | null) => (helo && !helo.startsWith('[') ? helo : undefined);

interface CheckRecord {
  check: string;
  status: string;
  evidence?: Record<string, unknown>;
}

/** email_auth from the recorded sender checks; ARC has no OCSF field and goes to `unmapped.arc`. */
function emailAuth(checks: CheckRecord[]): { auth: Record<string, string> | undefined; arc: unknown } {
  const byName = new Map(checks.map((check) => [check.check, check]));
  const auth: Record<string, string> = {};
  const spf = byName.get('spf');
  if (spf && spf.status !== 'disabled' && spf.status !== 'not-run') {
    auth.spf = String(spf.evidence?.result ?? spf.status);
  }
  const dkim = byName.get('dkim');
  const signature = (dkim?.evidence?.signatures as Array<{ domain: string; selector: string; result: string }> | undefined)?.[0];
  if (signature) {
    auth.dkim = signature.result;
    auth.dkim_domain = signature.domain;
    auth.dkim_signature = `d=${signature.domain}; s=${signature.selector}`;
  } else if (dkim && dkim.status !== 'disabled' && dkim.status !== 'not-run') {
    auth.dkim = 'none';
  }
  const dmarc = byName.get('dmarc');
  const arc = dmarc?.evidence?.arc as { overridesDmarcFailure?: boolean; overrideReason?: string } | undefined;
  if (dmarc && dmarc.status !== 'disabled' && dmarc.status !== 'not-run') {
    auth.dmarc = String(dmarc.evidence?.result ?? dmarc.status);
    if (dmarc.evidence?.policy) {
      auth.dmarc_policy = String(dmarc.evidence.policy);
    }
    if (arc?.overridesDmarcFailure) {
      auth.dmarc_override = `arc: ${arc.overrideReason ?? 'trusted ARC chain'}`;
    }
  }
  return { auth: Object.keys(auth).length > 0 ? auth : undefined, arc: arc ?? undefined };
}

/** The verdict that speaks for the message: the most severe decided action (first recipient on a tie). */
function leadingVerdict(verdicts: readonly Verdict[]): Verdict | undefined {
  return [...verdicts].sort((a, b) => ACTION_RANK[b.decidedAction] - ACTION_RANK[a.decidedAction])[0];
}

function emailObject(exported: ExportedMessage, details: MessageDetails) {
  const { message } = exported;
  const to = emails(details.to.length > 0 ? details.to : message.envelopeTo);
  return {
    uid: message.id,
    ...(isOcsfEmail(message.headerFrom) ? { from: message.headerFrom } : {}),
    ...(to.length > 0 ? { to } : {}),
    ...(emails(details.cc).length > 0 ? { cc: emails(details.cc) } : {}),
    ...(isOcsfEmail(details.replyTo) ? { reply_to_list: [details.replyTo] } : {}),
    ...(message.subject !== null ? { subject: message.subject } : {}),
    ...(message.messageIdHeader ? { message_uid: message.messageIdHeader } : {}),
    size: message.size,
    ...(details.files.length > 0
      ? {
          files: details.files.map((file) => ({
            name: file.name,
            size: file.size,
            mime_type: file.mimeType,
            type_id: 1,
            type: 'Regular File',
            hashes: [{ algorithm_id: 3, algorithm: 'SHA-256', value: file.sha256 }],
          })),
        }
      : {}),
    ...(details.urls.length > 0 ? { urls: details.urls.map((url) => ({ url_string: url })) } : {}),
  };
}

function emailObservables(exported: ExportedMessage, details: MessageDetails) {
  const { message } = exported;
  return observables([
    ['email.from', 'Email Address', isOcsfEmail(message.headerFrom) ? message.headerFrom : null],
    ['from', 'Email Address', isOcsfEmail(message.envelopeFrom) ? message.envelopeFrom : null],
    ...emails(message.envelopeTo).map((address): [string, keyof typeof OBSERVABLE, string] => ['to', 'Email Address', address]),
    ...emails(details.cc).map((address): [string, keyof typeof OBSERVABLE, string] => ['email.cc', 'Email Address', address]),
    ['src_endpoint.ip', 'IP Address', message.clientIp],
    ['src_endpoint.hostname', 'Hostname', heloHost(message.helo)],
    ...details.urls.map((url): [string, keyof typeof OBSERVABLE, string] => ['email.urls.url_string', 'URL String', url]),
    ...details.files.map((file): [string, keyof typeof OBSERVABLE, string] => ['email.files.name', 'File Name', file.name]),
    ...details.files.map((file): [string, keyof typeof OBSERVABLE, string] => ['email.files.hashes.value', 'Hash', file.sha256]),
  ]);
}

const srcEndpoint = (clientIp: string | null, helo: string | null) =>
  clientIp || heloHost(helo) ? { ...(clientIp ? { ip: clientIp } : {}), ...(heloHost(helo) ? { hostname: heloHost(helo) } : {}) } : undefined;

/**
 * Email Activity (4009) for a scanned (or skipped) message: Scan for journal copies, Receive for gateway and mailflow
 * mail; the security_control outcome of the most severe recipient decision, every decision under `unmapped.verdicts`.
 */
export function toEmailActivity(exported: ExportedMessage, details: MessageDetails, productVersion: string): MappedEvent {
  const { message, verdicts } = exported;
  const lead = leadingVerdict(verdicts);
  const decided = lead?.decidedAction ?? 'DELIVER';
  const outcome = controlOutcome(decided, lead ? lead.appliedAction : null);
  const journal = message.source === 'JOURNAL';
  const [directionId, direction] = DIRECTION[message.direction];
  const { auth, arc } = emailAuth((lead?.checks ?? []) as unknown as CheckRecord[]);
  const reasons = (lead?.reasons ?? []) as Array<{ kind: string; source: string; detail: string }>;
  const severityId = SEVERITY_OF_ACTION[decided];
  const time = (message.scannedAt ?? message.receivedAt).getTime();
  const src = srcEndpoint(message.clientIp, message.helo);
  const envelopeFrom = isOcsfEmail(message.envelopeFrom) ? message.envelopeFrom : undefined;
  const envelopeTo = emails(message.envelopeTo);
  const unmappedAddresses = invalidEmails([message.headerFrom, message.envelopeFrom, ...message.envelopeTo]);
  const event = {
    ...classFields(EMAIL_ACTIVITY_CLASS_UID, journal ? 3 : 2, journal ? 'Scan' : 'Receive'),
    time,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    message: `${direction.toLowerCase()} message ${verdicts.length === 0 ? 'recorded' : `${decided.toLowerCase()} ${lead?.appliedAction ? 'applied' : 'decided, not applied'}`}`,
    direction_id: directionId,
    direction,
    protocol_name: 'SMTP',
    ...(envelopeFrom ? { from: envelopeFrom } : {}),
    ...(envelopeTo.length > 0 ? { to: envelopeTo } : {}),
    email: emailObject(exported, details),
    ...(auth ? { email_auth: auth } : {}),
    ...(src ? { src_endpoint: src } : {}),
    ...outcome,
    is_alert: decided !== 'DELIVER',
    policy: {
      name: reasons[0]?.kind === 'data-control' ? 'Data Control' : 'Email Security',
      uid: reasons[0]?.source ?? 'default',
      ...(reasons[0] ? { desc: reasons[0].detail } : {}),
      is_applied: lead?.appliedAction != null,
    },
    metadata: metadata(stableUid('email-activity', message.id), message.accountId, 'verdict', message.id, productVersion),
    observables: emailObservables(exported, details),
    unmapped: {
      source: message.source,
      scan_status: message.scanStatus,
      ...(message.helo ? { smtp_helo: message.helo } : {}),
      ...(arc ? { arc } : {}),
      ...(unmappedAddresses.length > 0 ? { addresses_not_email_t: unmappedAddresses } : {}),
      verdicts: verdicts.map((verdict) => ({
        recipient: verdict.recipient,
        decided_action: verdict.decidedAction,
        applied_action: verdict.appliedAction,
        enforced: verdict.enforced,
        failed_check: verdict.failedCheck,
        skipped_reason: verdict.skippedReason,
        reasons: verdict.reasons,
      })),
    },
  };
  return { event: event as unknown as OcsfEvent, actionable: decided !== 'DELIVER' };
}

/** ATT&CK for a sender-check failure or a data-control hit (Mailwarden's own detections). */
const OWN_ATTACKS: Record<string, { technique: MitreTechnique; tactic: MitreTechnique; title: string }> = {
  dmarc: { technique: { id: 'T1566', name: 'Phishing' }, tactic: { id: 'TA0001', name: 'Initial Access' }, title: 'DMARC failed: the sender domain is not authenticated' },
  spf: { technique: { id: 'T1566', name: 'Phishing' }, tactic: { id: 'TA0001', name: 'Initial Access' }, title: 'SPF failed: the client may not send for the sender domain' },
  dkim: { technique: { id: 'T1566', name: 'Phishing' }, tactic: { id: 'TA0001', name: 'Initial Access' }, title: 'DKIM failed: a signature does not verify' },
  'header-anomaly': { technique: { id: 'T1566', name: 'Phishing' }, tactic: { id: 'TA0001', name: 'Initial Access' }, title: "Header anomaly: the recipient's own domain spoofed from outside" },
  'data-control': { technique: { id: 'T1048', name: 'Exfiltration Over Alternative Protocol' }, tactic: { id: 'TA0010', name: 'Exfiltration' }, title: 'Data control rule matched' },
};

/** Names of parent techniques whose sub-techniques the Mimecast table names. */
const PARENT_TECHNIQUES: Record<string, string> = { T1598: 'Phishing for Information', T1566: 'Phishing' };

function attack(technique: MitreTechnique, tactic: MitreTechnique | null) {
  const isTactic = technique.id.startsWith('TA');
  const [parent] = technique.id.split('.');
  const sub = technique.id.includes('.');
  return {
    version: 'v17',
    ...(tactic ? { tactic: { uid: tactic.id, name: tactic.name } } : {}),
    ...(!isTactic && !sub ? { technique: { uid: technique.id, name: technique.name } } : {}),
    ...(sub ? { technique: { uid: parent!, ...(PARENT_TECHNIQUES[parent!] ? { name: PARENT_TECHNIQUES[parent!] } : {}) }, sub_technique: { uid: technique.id, name: technique.name } } : {}),
  };
}

/**
 * Detection Findings (2004) for a scanned message: one per failed sender check and per data-control rule that hit
 * (across recipients), each with its ATT&CK technique.
 */
export function toMessageFindings(exported: ExportedMessage, details: MessageDetails, productVersion: string): MappedEvent[] {
  const { message, verdicts } = exported;
  const hits = new Map<string, { kind: string; source: string; detail: string; verdict: Verdict }>();
  for (const verdict of verdicts) {
    for (const reason of (verdict.reasons ?? []) as Array<{ kind: string; source: string; detail: string }>) {
      if ((reason.kind === 'sender-check' || reason.kind === 'data-control') && !hits.has(`${reason.kind}:${reason.source}`)) {
        hits.set(`${reason.kind}:${reason.source}`, { ...reason, verdict });
      }
    }
  }
  return [...hits.values()].map((hit) => {
    const known = OWN_ATTACKS[hit.kind === 'data-control' ? 'data-control' : hit.source] ?? OWN_ATTACKS.dmarc!;
    const decided = hit.verdict.decidedAction;
    const severityId = Math.max(SEVERITY.Low, SEVERITY_OF_ACTION[decided]);
    const findingUid = stableUid('finding', message.id, hit.kind, hit.source);
    const src = srcEndpoint(message.clientIp, message.helo);
    const event = {
      ...classFields(DETECTION_FINDING_CLASS_UID, 1, 'Create'),
      time: (message.scannedAt ?? message.receivedAt).getTime(),
      severity_id: severityId,
      severity: SEVERITY_NAMES[severityId],
      message: `${known.title} (${hit.detail})`,
      finding_info: {
        uid: findingUid,
        title: known.title,
        desc: hit.detail,
        types: [hit.kind === 'data-control' ? 'Data Control' : 'Sender Check'],
        analytic: { name: hit.kind === 'data-control' ? `data-control:${hit.source}` : hit.source, type_id: 1, type: 'Rule' },
        attacks: [attack(known.technique, known.tactic)],
        created_time: (message.scannedAt ?? message.receivedAt).getTime(),
      },
      evidences: [{ email: emailObject(exported, details), ...(src ? { src_endpoint: src } : {}) }],
      ...controlOutcome(decided, hit.verdict.appliedAction),
      is_alert: true,
      metadata: metadata(stableUid('detection-finding', message.id, hit.kind, hit.source), message.accountId, 'verdict', message.id, productVersion),
      observables: emailObservables(exported, details),
      unmapped: { recipient: hit.verdict.recipient, decided_action: decided, applied_action: hit.verdict.appliedAction },
    };
    return { event: event as unknown as OcsfEvent, actionable: true };
  });
}

const ALERT_SEVERITY: Record<string, number> = { attachment: SEVERITY.High, impersonation: SEVERITY.Medium, url: SEVERITY.Medium };

/** Detection Finding (2004) for a third-party (Mimecast TTP) alert, with the ATT&CK mapping of libs/mimecast. */
export function toAlertFinding(alert: ThirdPartyAlert, productVersion: string): MappedEvent {
  const technique = alert.mitreId ? (mitreFor(alert.alertType) ?? { id: alert.mitreId, name: alert.mitreName ?? alert.mitreId }) : null;
  const severityId = ALERT_SEVERITY[alert.logType.toLowerCase()] ?? SEVERITY.Medium;
  const email = {
    ...(isOcsfEmail(alert.sender) ? { from: alert.sender } : {}),
    ...(isOcsfEmail(alert.recipient) ? { to: [alert.recipient] } : {}),
    ...(alert.subject !== null ? { subject: alert.subject } : {}),
    ...(alert.messageIdHeader ? { message_uid: alert.messageIdHeader } : {}),
    ...(alert.url ? { urls: [{ url_string: alert.url }] } : {}),
    ...(alert.fileName ? { files: [{ name: alert.fileName, type_id: 1, type: 'Regular File' }] } : {}),
  };
  const hasEmail = 'from' in email || 'to' in email;
  const event = {
    ...classFields(DETECTION_FINDING_CLASS_UID, 1, 'Create'),
    time: alert.occurredAt.getTime(),
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    message: `${alert.source} ${alert.logType} alert: ${alert.alertType}`,
    finding_info: {
      uid: alert.id,
      title: alert.alertType,
      types: [`${alert.source} ${alert.logType}`],
      product: { name: alert.source === 'MIMECAST' ? 'Mimecast Targeted Threat Protection' : alert.source, vendor_name: alert.source === 'MIMECAST' ? 'Mimecast' : alert.source },
      ...(technique ? { attacks: [attack(technique, mitreTacticFor(technique))] } : {}),
      created_time: alert.createdAt.getTime(),
      first_seen_time: alert.occurredAt.getTime(),
    },
    ...(hasEmail ? { evidences: [{ email }] } : {}),
    action_id: ACTION.Observed,
    action: ACTION_NAMES[ACTION.Observed],
    disposition_id: DISPOSITION.Detected,
    disposition: DISPOSITION_NAMES[DISPOSITION.Detected],
    is_alert: true,
    metadata: metadata(stableUid('third-party-alert', alert.id), alert.accountId, 'third-party-alert', alert.messageIdHeader ?? alert.id, productVersion),
    observables: observables([
      ['evidences.email.from', 'Email Address', isOcsfEmail(alert.sender) ? alert.sender : null],
      ['evidences.email.to', 'Email Address', isOcsfEmail(alert.recipient) ? alert.recipient : null],
      ['evidences.email.urls.url_string', 'URL String', alert.url],
      ['evidences.email.files.name', 'File Name', alert.fileName],
    ]),
    unmapped: { source: alert.source, log_type: alert.logType, mitre_id: alert.mitreId, ...(hasEmail ? {} : { sender: alert.sender, recipient: alert.recipient }) },
  };
  return { event: event as unknown as OcsfEvent, actionable: true };
}

/** Remediation Activity activity_id (D3FEND tactic) and countermeasure per clawback action. */
const EVICT = { activity: [2, 'Evict'], technique: { uid: 'D3-ER', name: 'Email Removal' } } as const;
const REMEDIATION_KIND: Record<RemediationWithItems['action'], { activity: readonly [number, string]; technique: { uid: string; name: string } }> = {
  MOVE_TO_JUNK: EVICT,
  MOVE_TO_DELETED_ITEMS: EVICT,
  SOFT_DELETE: EVICT,
  HARD_DELETE: EVICT,
  RESTORE_TO_INBOX: { activity: [3, 'Restore'], technique: { uid: 'D3-RE', name: 'Restore Email' } },
};
const REMEDIATION_WORDS: Record<RemediationWithItems['action'], string> = {
  MOVE_TO_JUNK: 'moved to Junk Email',
  MOVE_TO_DELETED_ITEMS: 'moved to Deleted Items',
  SOFT_DELETE: 'soft-deleted',
  HARD_DELETE: 'hard-deleted',
  RESTORE_TO_INBOX: 'restored to the Inbox',
};
/** Per-mailbox outcomes listed in one event at most (failures first); the counts always cover every mailbox. */
export const REMEDIATION_MAILBOXES_LISTED = 100;

/**
 * Remediation Activity (7001) for a finished Microsoft 365 clawback: one event per remediation, as the class reports
 * one remediation command (`command_uid`) with one overall status (Success, Partial, Failure, Does Not Exist).
 * The per-mailbox outcomes go under `unmapped.mailboxes` (the class has no attribute for a list of mailboxes).
 */
export function toRemediationActivity(remediation: RemediationWithItems, productVersion: string): MappedEvent {
  const kind = REMEDIATION_KIND[remediation.action];
  const counts: Partial<Record<M365RemediationItemStatus, number>> = {};
  for (const item of remediation.items) {
    counts[item.status] = (counts[item.status] ?? 0) + 1;
  }
  const total = remediation.items.length;
  const failed = counts.FAILED ?? 0;
  const [statusId, statusName] =
    total > 0 && counts.NOT_FOUND === total
      ? [3, 'Does Not Exist']
      : failed === 0
        ? [1, 'Success']
        : failed === total
          ? [2, 'Failure']
          : [4, 'Partial'];
  const severityId = failed === 0 ? SEVERITY.Informational : SEVERITY.Medium;
  const done = (counts.COMPLETED ?? 0) + (counts.ALREADY_IN_DESTINATION ?? 0);
  const listed = [...remediation.items].sort((a, b) => Number(b.status === 'FAILED') - Number(a.status === 'FAILED')).slice(0, REMEDIATION_MAILBOXES_LISTED);
  const message = `Microsoft 365 clawback: messages ${REMEDIATION_WORDS[remediation.action]} in ${done} of ${total} mailboxes (${counts.NOT_FOUND ?? 0} not found, ${failed} failed)`;
  const event = {
    ...classFields(REMEDIATION_ACTIVITY_CLASS_UID, kind.activity[0], kind.activity[1]),
    time: (remediation.finishedAt ?? remediation.updatedAt).getTime(),
    start_time: remediation.createdAt.getTime(),
    ...(remediation.finishedAt ? { end_time: remediation.finishedAt.getTime() } : {}),
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    status_id: statusId,
    status: statusName,
    status_code: remediation.status,
    status_detail: message,
    message,
    command_uid: remediation.id,
    countermeasures: [
      {
        d3f_tactic: { name: kind.activity[1], src_url: `https://d3fend.mitre.org/tactic/d3f:${kind.activity[1]}/` },
        d3f_technique: { uid: kind.technique.uid, name: kind.technique.name },
      },
    ],
    remediation: { desc: `Messages ${REMEDIATION_WORDS[remediation.action]} in the recipients' Microsoft 365 mailboxes through Microsoft Graph` },
    metadata: {
      uid: stableUid('m365-remediation', remediation.id),
      version: OCSF_VERSION,
      product: { ...PRODUCT, version: productVersion },
      tenant_uid: remediation.accountId,
      log_name: 'm365-remediation',
      correlation_uid: remediation.restoreOf ?? remediation.id,
    },
    observables: observables(listed.map((item) => ['unmapped.mailboxes.recipient', 'Email Address', isOcsfEmail(item.recipient) ? item.recipient : null])),
    unmapped: {
      action: remediation.action,
      requested_by: remediation.requestedBy,
      ...(remediation.restoreOf ? { restore_of: remediation.restoreOf } : {}),
      mailbox_counts: { total, ...counts },
      mailboxes: listed.map((item) => ({
        recipient: item.recipient,
        message_uid: item.internetMessageId,
        message_id: item.messageId,
        status: item.status,
        ...(item.errorCode ? { error_code: item.errorCode } : {}),
        ...(item.errorMessage ? { error_message: item.errorMessage } : {}),
      })),
      ...(total > listed.length ? { mailboxes_omitted: total - listed.length } : {}),
    },
  };
  return { event: event as unknown as OcsfEvent, actionable: true };
}

/** The outbox payload of a Microsoft 365 mailflow tamper alert (libs/db MAILFLOW_ALERT_TOPIC). */
export interface MailflowAlertPayload {
  alertId: string;
  accountId: string;
  kind: 'TAMPER_DETECTED' | 'TAMPER_CLEARED';
  domains: string[];
  differences: Array<{ kind: string; name: string; problem: string; property: string | null; description?: string }>;
  createdAt: string;
}

/**
 * Detection Finding (2004) for the mailflow tamper check (issue 16): Mailwarden's connectors or transport rule in
 * Exchange Online were removed, disabled or changed (Create, High: mail may bypass scanning), or match again (Close,
 * Informational). Rendered from the outbox payload alone.
 */
export function toMailflowAlertFinding(alert: MailflowAlertPayload, productVersion: string): MappedEvent {
  const detected = alert.kind === 'TAMPER_DETECTED';
  const severityId = detected ? SEVERITY.High : SEVERITY.Informational;
  const time = Date.parse(alert.createdAt);
  const descriptions = alert.differences.map((difference) => difference.description ?? `${difference.kind} ${difference.name}: ${difference.problem}`);
  const event = {
    ...classFields(DETECTION_FINDING_CLASS_UID, detected ? 1 : 3, detected ? 'Create' : 'Close'),
    time,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    message: detected
      ? `Microsoft 365 mailflow of ${alert.domains.join(', ')} changed outside Mailwarden: ${descriptions.join('; ')}`
      : `Microsoft 365 mailflow of ${alert.domains.join(', ')} matches what Mailwarden created again`,
    finding_info: {
      uid: alert.alertId,
      title: detected ? 'Microsoft 365 mailflow tampering detected' : 'Microsoft 365 mailflow tampering cleared',
      types: ['Microsoft 365 mailflow tamper check'],
      ...(descriptions.length > 0 ? { desc: descriptions.join('; ') } : {}),
      created_time: time,
    },
    action_id: ACTION.Observed,
    action: ACTION_NAMES[ACTION.Observed],
    disposition_id: DISPOSITION.Detected,
    disposition: DISPOSITION_NAMES[DISPOSITION.Detected],
    is_alert: detected,
    metadata: metadata(stableUid('mailflow-alert', alert.alertId), alert.accountId, 'mailflow-alert', alert.alertId, productVersion),
    unmapped: { kind: alert.kind, domains: alert.domains, differences: alert.differences },
  };
  return { event: event as unknown as OcsfEvent, actionable: detected };
}
