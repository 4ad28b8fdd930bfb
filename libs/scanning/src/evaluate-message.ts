import type { MessageDirection, VerdictInput } from '@mailwarden/db';
import { evaluatePolicy, type PolicyAction, type RecipientDecision, type SenderCheckOutcome } from '@mailwarden/policy';
import { anomalyEvidenceByRecipient, checksForRecipient, type RecipientVerdict, type SenderCheckInput, type SenderCheckReport } from '@mailwarden/sender-checks';
import { effectivePoliciesFor, type EffectivePolicies, type PolicyScopeContext } from './effective-policies';
import { headerOnlyContent, parseMessageContent } from './message-content';

/** Everything one evaluation needs; no I/O of its own besides the injected sender checks (DNS). */
export interface MessageToEvaluate {
  raw: Buffer;
  direction: MessageDirection;
  /** Envelope MAIL FROM; empty for the null reverse-path. */
  envelopeFrom: string;
  envelopeTo: readonly string[];
  headerFrom: string | null;
  /** The sending client; null when unknown (a journal copy that never crossed the provider's edge). */
  clientIp: string | null;
  helo: string | null;
  /** The account's verified domains, lower-case. */
  accountDomains: readonly string[];
  /**
   * The domains this path scans (default: all of `accountDomains`). Journal copies are scanned only for domains
   * whose mode (or transition) takes journal copies (libs/accounts `pathDecision`): a domain disconnected from
   * journaling is scanned by its gateway or mailflow path, never twice.
   */
  scanDomains?: readonly string[];
  /** Whether the decided action is applied (`enforced = !monitorOnly`); journal copies are never acted on. */
  enforced: boolean;
  policyContext: PolicyScopeContext;
}

export type SenderChecksRunner = (input: SenderCheckInput) => Promise<SenderCheckReport>;

export interface EvaluatedVerdict extends VerdictInput {
  /** For TAG_SUBJECT: the Subject to deliver with. */
  taggedSubject?: string;
}

export interface MessageEvaluation {
  /** Recipients the account owns decisions for (inbound: its own mailboxes; outbound: every external one). */
  verdicts: EvaluatedVerdict[];
  /** SKIPPED: internal or out-of-scope mail, recorded without scanning (DESIGN.md §2). */
  status: 'SCANNED' | 'SKIPPED';
  /** One sender-check report per distinct sender-check setting among the recipients (usually one). */
  senderReports: SenderCheckReport[];
  /** A DNS temperror happened in a check. */
  temporaryError: boolean;
  /** A temperror check would have asked for REJECT: an SMTP front answers 451 so the sender retries. */
  temporaryErrorMayReject: boolean;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

function skippedVerdicts(recipients: readonly string[], reason: string, enforced: boolean): EvaluatedVerdict[] {
  return recipients.map((recipient) => ({
    recipient,
    checks: [],
    decidedAction: 'DELIVER',
    appliedAction: enforced ? 'DELIVER' : null,
    enforced,
    reasons: [],
    skippedReason: reason,
  }));
}

function senderOutcome(report: SenderCheckReport, verdict: RecipientVerdict | undefined): SenderCheckOutcome {
  if (report.allowListed) {
    return { skipped: 'allow-list', detail: `${report.allowListed.identity} ${report.allowListed.address} matches ${report.allowListed.entry}` };
  }
  if (!verdict?.firstFailure) {
    return {};
  }
  return { failedCheck: verdict.firstFailure, requestedAction: verdict.action, detail: `${verdict.firstFailure}=fail` };
}

/**
 * The scan of DESIGN.md §3: direction decides what is scanned (internal and out-of-scope mail is recorded as
 * skipped), inbound mail gets the sender checks under each recipient's effective policy, then policy decides one
 * action per recipient with its reasons. Shared by the scan workers (stored journal and gateway messages) and
 * the gateway's SMTP front (before its DATA reply).
 */
export async function evaluateMessage(message: MessageToEvaluate, runSenderChecks: SenderChecksRunner): Promise<MessageEvaluation> {
  const recipients = [...new Set(message.envelopeTo.map((address) => address.toLowerCase()))];
  const own = new Set(message.accountDomains);
  const empty = { senderReports: [], temporaryError: false, temporaryErrorMayReject: false };

  if (message.direction === 'INTERNAL') {
    return { verdicts: skippedVerdicts(recipients, 'internal', message.enforced), status: 'SKIPPED', ...empty };
  }
  if (message.direction === 'EXTERNAL') {
    return { verdicts: skippedVerdicts(recipients, 'out-of-scope', message.enforced), status: 'SKIPPED', ...empty };
  }

  const inbound = message.direction === 'INBOUND';
  const scope = message.scanDomains ? new Set(message.scanDomains) : own;
  const scanned = inbound ? recipients.filter((recipient) => own.has(domainOf(recipient)) && scope.has(domainOf(recipient))) : recipients;
  if ((inbound && scanned.length === 0) || (!inbound && !scope.has(domainOf(message.envelopeFrom)))) {
    return { verdicts: skippedVerdicts(recipients, 'not-scanned-on-this-path', message.enforced), status: 'SKIPPED', ...empty };
  }
  // Inbound: each recipient's own policy. Outbound: the sending mailbox's policy, for every recipient.
  const policies = new Map<string, EffectivePolicies>();
  const senderPolicy = inbound ? null : effectivePoliciesFor(message.envelopeFrom, message.policyContext);
  for (const recipient of scanned) {
    policies.set(recipient, senderPolicy ?? effectivePoliciesFor(recipient, message.policyContext));
  }

  const outcomes = new Map<string, SenderCheckOutcome>();
  const reports: SenderCheckReport[] = [];
  const checksByRecipient = new Map<string, unknown>();
  if (inbound) {
    // Recipients whose sender-check settings agree share one run (one set of DNS lookups).
    const groups = new Map<string, string[]>();
    for (const recipient of scanned) {
      const { senderChecks, allowList } = policies.get(recipient)!.emailSecurity;
      const key = JSON.stringify({ senderChecks, allowList });
      const group = groups.get(key);
      if (group) {
        group.push(recipient);
      } else {
        groups.set(key, [recipient]);
      }
    }
    for (const group of groups.values()) {
      const { senderChecks, allowList } = policies.get(group[0]!)!.emailSecurity;
      // Without the sending client's address SPF cannot be evaluated (a journal copy that never crossed the
      // provider's edge): SPF is recorded as disabled rather than failed against the wrong address.
      const settings = message.clientIp ? { senderChecks, allowList } : { allowList, senderChecks: { ...senderChecks, spf: { ...senderChecks.spf, enabled: false } } };
      const report = await runSenderChecks({
        message: message.raw,
        clientIp: message.clientIp ?? '0.0.0.0',
        helo: message.helo ?? '',
        envelopeSender: message.envelopeFrom,
        envelopeRecipients: group,
        accountDomains: [...message.accountDomains],
        settings,
      });
      reports.push(report);
      // Lookups by recipient, built once: per-recipient searches of the report would be O(n²) on a large list.
      const verdictOf = new Map(report.recipients.map((entry) => [entry.recipient.toLowerCase(), entry]));
      const anomalyOf = anomalyEvidenceByRecipient(report.checks);
      for (const recipient of group) {
        outcomes.set(recipient, senderOutcome(report, verdictOf.get(recipient)));
        // Each verdict keeps its own header-anomaly evidence only (bounded), never the whole recipient list.
        checksByRecipient.set(recipient, checksForRecipient(report.checks, recipient, anomalyOf));
      }
    }
  }

  // Bodies and attachments are decoded only when some recipient has a content rule for this direction.
  const contentRulesApply = scanned.some((recipient) => {
    const { dataControl } = policies.get(recipient)!;
    return dataControl.enabled && dataControl.rules.some((rule) => rule.enabled && rule.directions.includes(message.direction));
  });
  const content = contentRulesApply ? await parseMessageContent(message.raw) : headerOnlyContent(message.raw);
  const decision = evaluatePolicy({
    direction: message.direction,
    envelopeSender: message.envelopeFrom || null,
    headerFrom: message.headerFrom,
    content,
    recipients: scanned.map((address) => ({
      address,
      emailSecurity: policies.get(address)!.emailSecurity,
      dataControl: policies.get(address)!.dataControl,
      senderChecks: outcomes.get(address),
    })),
  });

  const verdicts = decision.recipients.map((entry: RecipientDecision): EvaluatedVerdict => {
    const applied: PolicyAction | null = message.enforced ? entry.action : null;
    return {
      recipient: entry.recipient,
      checks: JSON.parse(JSON.stringify(checksByRecipient.get(entry.recipient) ?? [])),
      failedCheck: outcomes.get(entry.recipient)?.failedCheck ?? null,
      decidedAction: entry.action,
      appliedAction: applied,
      enforced: message.enforced,
      reasons: JSON.parse(JSON.stringify(entry.reasons)),
      taggedSubject: entry.taggedSubject,
    };
  });
  return {
    verdicts,
    status: 'SCANNED',
    senderReports: reports,
    temporaryError: reports.some((report) => report.temporaryError),
    temporaryErrorMayReject: reports.some((report) => report.temporaryErrorMayReject),
  };
}
