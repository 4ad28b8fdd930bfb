import type { PolicyAction } from '@mailwarden/policy';
import { POLICY_ACTIONS } from '@mailwarden/policy';
import type {
  AllowListMatch,
  HeaderAnomalyCheckRecord,
  RecipientAnomalyEvidence,
  RecipientVerdict,
  SenderCheckInput,
  SenderCheckRecord,
  SenderCheckReport,
} from './sender-checks.types';

const SEVERITY = (action: PolicyAction) => POLICY_ACTIONS.indexOf(action);

/**
 * The report of the four check records (DMARC, SPF, DKIM, header anomaly): a message-wide failure decides for every
 * recipient, else the header anomaly decides for the recipients it failed; the report's action is the most severe.
 */
export function senderCheckReport(input: SenderCheckInput, checks: SenderCheckReport['checks'], allowListed: AllowListMatch | null): SenderCheckReport {
  const messageFailure = checks.find((c) => c.check !== 'header-anomaly' && c.status === 'fail');
  const anomaly = checks[3];
  const failed = new Set(anomaly.failedRecipients ?? []);
  const recipients: RecipientVerdict[] = input.envelopeRecipients.map((recipient) => {
    if (messageFailure) {
      return { recipient, firstFailure: messageFailure.check, action: messageFailure.action! };
    }
    if (anomaly.status === 'fail' && failed.has(recipient)) {
      return { recipient, firstFailure: 'header-anomaly', action: anomaly.action! };
    }
    return { recipient, firstFailure: null, action: 'DELIVER' };
  });
  const firstFailure = messageFailure?.check ?? (anomaly.status === 'fail' ? 'header-anomaly' : null);
  const action = recipients.reduce<PolicyAction>((worst, r) => (SEVERITY(r.action) > SEVERITY(worst) ? r.action : worst), 'DELIVER');
  const temporary = checks.filter((c) => c.temporaryError);
  return {
    allowListed,
    checks,
    firstFailure,
    action,
    recipients,
    temporaryError: temporary.length > 0,
    temporaryErrorChecks: temporary.map((c) => c.check),
    temporaryErrorMayReject: temporary.some((c) => c.actionIfFailed === 'REJECT'),
  };
}

/**
 * The checks as one recipient's verdict records them: the message-wide checks as they are, the header anomaly
 * narrowed to that recipient (its own evidence entry, its own status). A verdict never carries the other
 * recipients, so a message to n recipients stores O(n) evidence, not O(n²).
 */
export function checksForRecipient(checks: SenderCheckReport['checks'], recipient: string, anomalyOf?: Map<string, RecipientAnomalyEvidence>): SenderCheckRecord[] {
  return checks.map((check): SenderCheckRecord => {
    if (check.check !== 'header-anomaly' || !check.evidence) {
      return check;
    }
    const own = anomalyOf?.get(recipient) ?? check.evidence.recipients.find((entry) => entry.recipient === recipient);
    const { failedRecipients: _all, action, ...rest } = check;
    const status = check.status === 'fail' && !own?.anomaly ? (own?.inAccountDomain ? 'pass' : 'none') : check.status;
    return {
      ...rest,
      status,
      ...(status === 'fail' ? { action, failedRecipients: [recipient] } : {}),
      evidence: { ...check.evidence, recipients: own ? [own] : [] },
    };
  });
}

/** The header anomaly's evidence entries by recipient, for {@link checksForRecipient} over many recipients. */
export function anomalyEvidenceByRecipient(checks: SenderCheckReport['checks']): Map<string, RecipientAnomalyEvidence> {
  const anomaly = checks.find((check): check is HeaderAnomalyCheckRecord => check.check === 'header-anomaly');
  return new Map((anomaly?.evidence?.recipients ?? []).map((entry) => [entry.recipient, entry]));
}
