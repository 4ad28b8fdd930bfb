/**
 * Policy vocabulary shared by libs/policy (resolution, evaluation) and libs/sender-checks (which takes the
 * effective sender-check settings). Literal values equal the database enums of the same name (@mailwarden/db),
 * so they pass through unchanged; integrators script against them (stable API names).
 */

/** What Mailwarden does with a message for one recipient. Order of severity: DELIVER < TAG_SUBJECT < QUARANTINE < REJECT. */
export type PolicyAction = 'DELIVER' | 'TAG_SUBJECT' | 'QUARANTINE' | 'REJECT';

export const POLICY_ACTIONS: readonly PolicyAction[] = ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'];

/** DMARC failures may also follow the sender's published policy (p=/sp=, honouring pct=): the default. */
export type DmarcFailureAction = PolicyAction | 'FOLLOW_SENDER_POLICY';

export type SenderCheckName = 'dmarc' | 'spf' | 'dkim' | 'header-anomaly';

/** DESIGN.md §4 order: the first check that fails decides, later checks are not run. */
export const SENDER_CHECK_ORDER: readonly SenderCheckName[] = ['dmarc', 'spf', 'dkim', 'header-anomaly'];

export interface SenderCheckSettings {
  dmarc: { enabled: boolean; action: DmarcFailureAction };
  /** Applies to SPF `fail` only (softfail never triggers it). */
  spf: { enabled: boolean; action: PolicyAction };
  /** Applies when a DKIM signature is present and fails verification (no signature is `none`, not a failure). */
  dkim: { enabled: boolean; action: PolicyAction };
  /** Header From domain equals the recipient's domain and header From differs from the envelope sender. */
  headerAnomaly: { enabled: boolean; action: PolicyAction };
  /** ARC sealers (d= of ARC-Seal) whose passing chain overrides a DMARC failure. Lower-case domains. */
  trustedArcSealers: string[];
}

/** Domains (match the domain and its subdomains) and exact addresses, all lower-case. */
export interface AddressList {
  domains: string[];
  addresses: string[];
}

export interface EmailSecuritySettings {
  senderChecks: SenderCheckSettings;
  /** Inbound allow list: senders on it skip the sender checks. */
  allowList: AddressList;
  /** Inbound block list: senders on it are blocked with blockAction. */
  blockList: AddressList;
  blockAction: PolicyAction;
  /** Text put before the Subject for TAG_SUBJECT, e.g. "[SUSPICIOUS]". */
  subjectTag: string;
}

export const DEFAULT_EMAIL_SECURITY_SETTINGS: EmailSecuritySettings = {
  senderChecks: {
    dmarc: { enabled: true, action: 'FOLLOW_SENDER_POLICY' },
    spf: { enabled: true, action: 'REJECT' },
    dkim: { enabled: true, action: 'TAG_SUBJECT' },
    headerAnomaly: { enabled: true, action: 'TAG_SUBJECT' },
    trustedArcSealers: [],
  },
  allowList: { domains: [], addresses: [] },
  blockList: { domains: [], addresses: [] },
  blockAction: 'REJECT',
  subjectTag: '[SUSPICIOUS]',
};
