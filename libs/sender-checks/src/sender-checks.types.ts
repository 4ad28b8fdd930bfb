import type { EmailSecuritySettings, PolicyAction, SenderCheckName } from '@mailwarden/policy';
import type { DnsResolveFunction } from './dns-resolver';

/** The settings the sender checks read: the effective (resolved, lock-applied) Email Security policy. */
export type SenderCheckPolicySettings = Pick<EmailSecuritySettings, 'senderChecks' | 'allowList'>;

/** One message as received, with its SMTP context (DESIGN.md §4). */
export interface SenderCheckInput {
  /** The raw message (CRLF line endings, as received in DATA). */
  message: Buffer;
  /** SMTP client address (IPv4 or IPv6). */
  clientIp: string;
  /** HELO/EHLO name the client gave. */
  helo: string;
  /** MAIL FROM address; empty string for the null reverse-path `<>`. */
  envelopeSender: string;
  /** RCPT TO addresses. */
  envelopeRecipients: string[];
  /** The account's domains (lower-case); the header anomaly check looks at recipients in them. */
  accountDomains: string[];
  settings: SenderCheckPolicySettings;
}

export interface SenderCheckOptions {
  resolver: DnsResolveFunction;
  /** Uniform random number in [0, 1) for DMARC pct= sampling; injectable for deterministic tests. */
  random?: () => number;
  /** authserv-id (RFC 8601) of the results: our host name. */
  authservId?: string;
  /** DKIM verification time (signature t=/x=); defaults to now. */
  verificationTime?: Date | number;
}

/**
 * Outcome of one check.
 * - pass / fail / none / neutral / softfail / permerror / temperror: the check ran; only `fail` is a
 *   failure (SPF softfail, permerror, neutral and none are recorded, never acted on);
 * - temperror: DNS did not answer in time; recorded, never a failure (the caller retries or answers 4xx);
 * - not-run: an earlier check failed and decided (DESIGN.md §4: later checks are not run);
 * - disabled: turned off in the policy;
 * - skipped-by-allow-list: the sender is on the inbound allow list.
 */
export type SenderCheckStatus =
  | 'pass'
  | 'fail'
  | 'none'
  | 'neutral'
  | 'softfail'
  | 'permerror'
  | 'temperror'
  | 'not-run'
  | 'disabled'
  | 'skipped-by-allow-list';

export interface SpfEvidence {
  /** RFC 7208 result as computed (pass, fail, softfail, neutral, none, permerror, temperror). */
  result: string;
  /** The identity checked: the MAIL FROM domain, or the HELO name for a null MAIL FROM (RFC 7208 2.4). */
  domain: string;
  clientIp: string;
  helo: string;
  envelopeSender: string;
  /** The SPF record that was evaluated, when one was found. */
  record?: string;
  comment?: string;
}

export interface DkimSignatureEvidence {
  domain: string;
  selector: string;
  algorithm: string;
  canonicalization?: string;
  /** RFC 8601 dkim= result (pass, fail, neutral, policy, permerror, temperror). */
  result: string;
  comment?: string;
  /** RSA modulus length of the key, when it was fetched. */
  keyBits?: number;
  /** The key record has t=y (the domain is testing DKIM). */
  testing?: boolean;
}

export interface DkimEvidence {
  signatures: DkimSignatureEvidence[];
}

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface ArcEvidence {
  /** RFC 8617 chain validation result (pass, fail, none). */
  result: string;
  comment?: string;
  /** Newest instance (i=). */
  instance?: number;
  /** d= of the newest ARC-Seal. */
  sealer?: string;
  /** The sealer is in trustedArcSealers. */
  trustedSealer: boolean;
  /** What the newest ARC-Authentication-Results recorded (result keywords per method). */
  recorded?: { dmarc?: string; spf?: string; spfDomain?: string; dkim?: { result: string; domain?: string }[] };
  /** The chain overrides the DMARC failure, and why. */
  overridesDmarcFailure: boolean;
  overrideReason?: string;
}

export interface DmarcEvidence {
  /** DMARC result as computed (pass, fail, none, temperror, permerror), before any ARC override. */
  result: string;
  /** RFC5322.From domain. */
  fromDomain?: string;
  /** Why DMARC could not be evaluated (no single author domain: RFC 9989 5.3.1). */
  skipReason?: string;
  /** Domain the applied record was published at. */
  policyDomain?: string;
  record?: string;
  p?: string;
  sp?: string;
  np?: string;
  /** pct= of the record (RFC 7489 6.3; 100 when absent). */
  pct?: number;
  testMode?: boolean;
  /** The sender's policy for this author domain: p, sp for a subdomain (np if it does not exist), lowered for t=y. */
  policy?: DmarcPolicy;
  /** With pct < 100: whether this message was sampled into the policy (RFC 7489 6.6.4). */
  sampled?: boolean;
  /** The policy after pct sampling: the policy, or the next one down for unsampled messages. */
  appliedPolicy?: DmarcPolicy;
  alignment?: { spf: { domain?: string; strict: boolean }; dkim: { domain?: string; strict: boolean } };
  arc?: ArcEvidence;
  /**
   * The SPF and DKIM results DMARC was computed from (RFC 7489 4.2), shown whatever the order of the checks
   * decided: with DMARC failing first, the SPF and DKIM checks are recorded as not run, and this is where the
   * admin still sees, say, the SPF hard fail beneath "DMARC fail, p=none".
   */
  computedFrom?: { spf: SpfEvidence & { status: SenderCheckStatus }; dkim: DkimEvidence & { status: SenderCheckStatus } };
}

export interface RecipientAnomalyEvidence {
  recipient: string;
  domain: string;
  /** The recipient is in one of the account's domains (only those are looked at). */
  inAccountDomain: boolean;
  /** Header From is in the recipient's domain and differs from the envelope sender. */
  anomaly: boolean;
}

export interface HeaderAnomalyEvidence {
  /** The header From addresses: at most 10, each cut at 320 characters (then `headerFromTruncated`). */
  headerFrom: string[];
  headerFromTruncated?: true;
  /** How many From addresses there were, when the list was cut. */
  headerFromCount?: number;
  envelopeSender: string;
  /** In the report: every recipient. In a verdict's checks: that recipient only (`checksForRecipient`). */
  recipients: RecipientAnomalyEvidence[];
}

interface CheckRecordBase<N extends SenderCheckName, E> {
  check: N;
  status: SenderCheckStatus;
  /** The check ended in temperror (DNS timeout or failure). Never a failure; callers retry or answer 4xx. */
  temporaryError: boolean;
  /** What the policy asks for when this check failed (set on a `fail` only). */
  action?: PolicyAction;
  /**
   * On a temperror: what the check would have asked had it failed (for DMARC's sender policy with
   * an unknown record, REJECT). Lets the gateway answer 451 rather than accept what it might reject.
   */
  actionIfFailed?: PolicyAction;
  evidence?: E;
}

export type DmarcCheckRecord = CheckRecordBase<'dmarc', DmarcEvidence>;
export type SpfCheckRecord = CheckRecordBase<'spf', SpfEvidence>;
export type DkimCheckRecord = CheckRecordBase<'dkim', DkimEvidence>;
export type HeaderAnomalyCheckRecord = CheckRecordBase<'header-anomaly', HeaderAnomalyEvidence> & {
  /** Recipients for which the anomaly was found (the action applies to them only). */
  failedRecipients?: string[];
};

export type SenderCheckRecord = DmarcCheckRecord | SpfCheckRecord | DkimCheckRecord | HeaderAnomalyCheckRecord;

export interface AllowListMatch {
  /** Which sender identity matched. */
  identity: 'envelope-sender' | 'header-from';
  address: string;
  /** The allow-list entry that matched and whether it is a domain (subdomains included) or an address. */
  entry: string;
  kind: 'domain' | 'address';
}

export interface RecipientVerdict {
  recipient: string;
  /** First check that failed for this recipient, null when none did. */
  firstFailure: SenderCheckName | null;
  /** Action the sender checks ask for this recipient (DELIVER when nothing failed). */
  action: PolicyAction;
}

/** Every check run with its result and evidence, the check that failed first, and the action it asks for. */
export interface SenderCheckReport {
  /** Set when the sender is on the inbound allow list: no check ran. */
  allowListed: AllowListMatch | null;
  /** All four checks, in DESIGN.md §4 order. */
  checks: [DmarcCheckRecord, SpfCheckRecord, DkimCheckRecord, HeaderAnomalyCheckRecord];
  /** First check that failed (for any recipient), null when none did. */
  firstFailure: SenderCheckName | null;
  /** The most severe recipient action (DELIVER < TAG_SUBJECT < QUARANTINE < REJECT). */
  action: PolicyAction;
  /** Per-recipient outcome: the header anomaly depends on the recipient's domain. */
  recipients: RecipientVerdict[];
  /** Some check that ran ended in temperror (see `temporaryErrorChecks`). */
  temporaryError: boolean;
  temporaryErrorChecks: SenderCheckName[];
  /** A temperror check would have asked for REJECT had it failed: an SMTP front answers 451 (retry) instead. */
  temporaryErrorMayReject: boolean;
}
