import { matchAddressList, normalizeAddress, type AddressListMatch } from './address-list';
import { inspectMessage, matchContentRule, type ContentRuleMatch, type InspectedMessage } from './content-rules';
import type { ContentRule, DataControlSettings, PolicyDirection } from './data-control.types';
import type { MessageContent } from './message-content.types';
import { PolicyEvaluationCode, PolicyEvaluationException } from './policy.errors';
import { POLICY_ACTIONS, type EmailSecuritySettings, type PolicyAction } from './policy.types';

/** Sender-check outcome for one recipient, as computed by libs/sender-checks. */
export interface SenderCheckOutcome {
  /** Name of the first failing check (`dmarc`, `spf`, `dkim`, `header-anomaly`); absent when all passed or none ran. */
  failedCheck?: string;
  /** The action the failing check asks for (already resolved, e.g. DMARC "follow sender policy" → its p=). */
  requestedAction?: PolicyAction;
  /** Set when the checks were skipped because the sender is on the allow list. */
  skipped?: 'allow-list';
  /** Free text for the reason (e.g. "dmarc=fail (p=reject) header.from=example.com"). */
  detail?: string;
}

export interface RecipientPolicyInput {
  address: string;
  /** The recipient's effective policies (resolveEmailSecurityPolicy / resolveDataControlPolicy). */
  emailSecurity: EmailSecuritySettings;
  dataControl: DataControlSettings;
  /** Absent when no sender checks ran (outbound mail, or not computed). */
  senderChecks?: SenderCheckOutcome;
}

export interface EvaluatePolicyInput {
  direction: PolicyDirection;
  /** Envelope MAIL FROM; null or `<>` for the null reverse-path (bounces). */
  envelopeSender: string | null;
  /** Address in the header From field, if any. */
  headerFrom?: string | null;
  content: MessageContent;
  recipients: RecipientPolicyInput[];
}

export type PolicyReasonKind = 'block-list' | 'allow-list' | 'sender-check' | 'data-control';

export interface PolicyReason {
  kind: PolicyReasonKind;
  /** The sender-check name, `block-list`, `allow-list`, or the data-control rule id. */
  source: string;
  action: PolicyAction;
  detail: string;
}

export interface RecipientDecision {
  recipient: string;
  /** The most severe action among the reasons; DELIVER when there is none. */
  action: PolicyAction;
  /** Most severe first (reasons[0] decided the action); equal severity in evaluation order: lists, sender checks, rules. */
  reasons: PolicyReason[];
  /** For TAG_SUBJECT: the recipient's tag and the Subject to deliver with. */
  subjectTag?: string;
  taggedSubject?: string;
}

export interface PolicyDecision {
  recipients: RecipientDecision[];
}

const SEVERITY: Record<PolicyAction, number> = Object.fromEntries(POLICY_ACTIONS.map((action, index) => [action, index])) as Record<
  PolicyAction,
  number
>;

/** The more severe of two actions (DELIVER < TAG_SUBJECT < QUARANTINE < REJECT). */
export function mostSevere(a: PolicyAction, b: PolicyAction): PolicyAction {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

const KIND_ORDER: Record<PolicyReasonKind, number> = { 'block-list': 0, 'allow-list': 1, 'sender-check': 2, 'data-control': 3 };

function describeMatch(match: AddressListMatch): string {
  return match.kind === 'address' ? `address ${match.entry}` : `domain ${match.entry}`;
}

/**
 * Allow and block lists (inbound only, DESIGN.md §4: "inbound allow list" / "inbound block list").
 * - The block list is checked against the envelope sender and the header From (either one blocks).
 * - The allow list is checked against the envelope sender only: the header From is trivially forged, and the
 *   header-anomaly check exists because of it.
 * - When both match, the more specific entry wins (exact address > longer domain > shorter domain), and on a tie
 *   the block list wins, as in Mimecast, where a blocked-senders entry takes precedence over a permitted one of the
 *   same scope. So `allow example.com` + `block spam@example.com` blocks that one address, while
 *   `block example.com` + `allow ceo@example.com` lets that one address through.
 */
function listReasons(input: EvaluatePolicyInput, settings: EmailSecuritySettings): PolicyReason[] {
  if (input.direction !== 'INBOUND') {
    return [];
  }
  const blocked = [input.envelopeSender, input.headerFrom]
    .map((identity) => matchAddressList(settings.blockList, identity))
    .reduce<AddressListMatch | null>((best, match) => (match && (!best || match.specificity > best.specificity) ? match : best), null);
  const allowed = matchAddressList(settings.allowList, input.envelopeSender);
  if (blocked && (!allowed || blocked.specificity >= allowed.specificity)) {
    const over = allowed ? ` (beats allow-list ${describeMatch(allowed)}, which is not more specific)` : '';
    return [{ kind: 'block-list', source: 'block-list', action: settings.blockAction, detail: `sender matches block-list ${describeMatch(blocked)}${over}` }];
  }
  if (allowed) {
    const over = blocked ? ` (more specific than block-list ${describeMatch(blocked)})` : '';
    return [{ kind: 'allow-list', source: 'allow-list', action: 'DELIVER', detail: `sender matches allow-list ${describeMatch(allowed)}${over}` }];
  }
  return [];
}

function senderCheckReasons(recipient: RecipientPolicyInput): PolicyReason[] {
  const outcome = recipient.senderChecks;
  if (!outcome?.failedCheck) {
    return [];
  }
  if (!outcome.requestedAction || !POLICY_ACTIONS.includes(outcome.requestedAction)) {
    throw new PolicyEvaluationException(
      PolicyEvaluationCode.MissingRequestedAction,
      `recipient ${recipient.address}: sender check "${outcome.failedCheck}" failed without a valid requestedAction`,
    );
  }
  return [
    {
      kind: 'sender-check',
      source: outcome.failedCheck,
      action: outcome.requestedAction,
      detail: outcome.detail ?? `${outcome.failedCheck} check failed`,
    },
  ];
}

function dataControlReasons(
  input: EvaluatePolicyInput,
  settings: DataControlSettings,
  message: InspectedMessage,
  memo: Map<string, ContentRuleMatch | null>,
): PolicyReason[] {
  if (!settings.enabled) {
    return [];
  }
  const reasons: PolicyReason[] = [];
  for (const rule of settings.rules) {
    if (!rule.enabled || !rule.directions.includes(input.direction)) {
      continue;
    }
    const match = memoMatch(rule, message, memo);
    if (match) {
      reasons.push({ kind: 'data-control', source: rule.id, action: rule.action, detail: match.detail });
    }
  }
  return reasons;
}

/** Recipients often share a policy: the same rule definition is matched once per message. */
function memoMatch(rule: ContentRule, message: InspectedMessage, memo: Map<string, ContentRuleMatch | null>): ContentRuleMatch | null {
  const key = JSON.stringify(rule);
  if (!memo.has(key)) {
    memo.set(key, matchContentRule(rule, message));
  }
  return memo.get(key) ?? null;
}

/** Prefixes the tag unless the Subject already carries it (a re-scanned or forwarded message is not tagged twice). */
export function tagSubject(subject: string, tag: string): string {
  const trimmedTag = tag.trim();
  return subject.trimStart().startsWith(trimmedTag) ? subject : subject === '' ? trimmedTag : `${trimmedTag} ${subject}`;
}

/**
 * Decides one action per recipient with the reasons that led to it (DESIGN.md §5). Pure and deterministic:
 * the same input gives the same output, reasons included, and nothing is read or written.
 *
 * Per recipient: allow/block lists (inbound), the sender-check outcome (inbound, computed by libs/sender-checks),
 * then every enabled Data Control rule for the message's direction. The most severe action wins.
 */
export function evaluatePolicy(input: EvaluatePolicyInput): PolicyDecision {
  if (input.recipients.length === 0) {
    throw new PolicyEvaluationException(PolicyEvaluationCode.NoRecipients, 'evaluatePolicy needs at least one recipient');
  }
  const message = inspectMessage(input.content);
  const memo = new Map<string, ContentRuleMatch | null>();
  const normalized: EvaluatePolicyInput = { ...input, envelopeSender: normalizeAddress(input.envelopeSender) };
  return {
    recipients: input.recipients.map((recipient) => {
      const reasons = [
        ...listReasons(normalized, recipient.emailSecurity),
        ...senderCheckReasons(recipient),
        ...dataControlReasons(normalized, recipient.dataControl, message, memo),
      ];
      if (recipient.senderChecks?.skipped === 'allow-list' && !reasons.some((reason) => reason.kind === 'allow-list')) {
        reasons.push({ kind: 'allow-list', source: 'allow-list', action: 'DELIVER', detail: 'sender checks skipped: sender on the allow list' });
      }
      // Array.prototype.sort is stable (ES2019), so equal severities keep evaluation order.
      reasons.sort((a, b) => SEVERITY[b.action] - SEVERITY[a.action] || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
      const action = reasons.reduce<PolicyAction>((worst, reason) => mostSevere(worst, reason.action), 'DELIVER');
      const decision: RecipientDecision = { recipient: normalizeAddress(recipient.address) ?? recipient.address, action, reasons };
      if (action === 'TAG_SUBJECT') {
        decision.subjectTag = recipient.emailSecurity.subjectTag;
        decision.taggedSubject = tagSubject(input.content.subject, recipient.emailSecurity.subjectTag);
      }
      return decision;
    }),
  };
}
