import { MimecastLogKind, type MimecastLogRecord, type UrlClickLog } from './mimecast.types';

export interface MitreTechnique {
  id: string;
  name: string;
}

const SPEARPHISHING_LINK: MitreTechnique = { id: 'T1598.003', name: 'Spearphishing Link' };
const SPEARPHISHING_ATTACHMENT: MitreTechnique = { id: 'T1598.002', name: 'Spearphishing Attachment' };

export const ATTACHMENT_ALERT_TYPE = 'Unsafe Email Attachment';
export const IMPERSONATION_ALERT_TYPE = 'Impersonation Attempt';
/** Used for a URL log that names neither a definition, a reason nor a creation method. */
export const URL_ALERT_TYPE = 'URL Protection';

/** Mimecast alert type → MITRE ATT&CK technique or tactic (the table of issue 7). */
export const MIMECAST_MITRE_MAPPING: ReadonlyMap<string, MitreTechnique> = new Map([
  [IMPERSONATION_ALERT_TYPE, SPEARPHISHING_LINK],
  [ATTACHMENT_ALERT_TYPE, SPEARPHISHING_ATTACHMENT],
  [URL_ALERT_TYPE, SPEARPHISHING_LINK],
  ['Default URL Protection', SPEARPHISHING_LINK],
  ['Default Inbound URL Protect Definition', SPEARPHISHING_LINK],
  ['Anti-Spoofing policy - Inbound not allowed', SPEARPHISHING_LINK],
  ['IP Temporarily Blacklisted', { id: 'TA0001', name: 'Initial Access' }],
  ['Submitter failed to authenticate', { id: 'T1078', name: 'Valid Accounts' }],
  ['Invalid Recipient', { id: 'TA0005', name: 'Defense Evasion' }],
  ['Exceeding outbound thread limit', { id: 'T1041', name: 'Exfiltration Over C2 Channel' }],
  ['Message bounced due to Content Examination Policy', { id: 'T1598', name: 'Phishing for Information' }],
]);

const normaliseKey = (alertType: string) => alertType.trim().replace(/\s+/g, ' ').toLowerCase();

// Mimecast's spelling of a reason varies in case and spacing between tenants and API versions.
const LOOKUP = new Map([...MIMECAST_MITRE_MAPPING].map(([type, technique]) => [normaliseKey(type), technique]));

/** The technique for an alert type, or null for a type the table does not know (kept, counted as unmapped). */
export function mitreFor(alertType: string): MitreTechnique | null {
  return LOOKUP.get(normaliseKey(alertType)) ?? null;
}

const present = (value: string | undefined): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * The alert type of a record. Attachment and impersonation logs have one type each. A URL log takes its
 * `creationMethod` when it has no `ttpDefinition`, else its `reason`, else the `ttpDefinition` itself.
 */
export function alertTypeFor(kind: MimecastLogKind, record: MimecastLogRecord): string {
  switch (kind) {
    case MimecastLogKind.Attachment:
      return ATTACHMENT_ALERT_TYPE;
    case MimecastLogKind.Impersonation:
      return IMPERSONATION_ALERT_TYPE;
    case MimecastLogKind.Url: {
      const log = record as UrlClickLog;
      if (!present(log.ttpDefinition)) {
        return present(log.creationMethod) ? log.creationMethod.trim() : URL_ALERT_TYPE;
      }
      return present(log.reason) ? log.reason.trim() : log.ttpDefinition.trim();
    }
  }
}

/** ATT&CK tactic of each technique in {@link MIMECAST_MITRE_MAPPING} (a `TA…` entry is a tactic itself). */
const TACTIC_OF_TECHNIQUE: ReadonlyMap<string, MitreTechnique> = new Map([
  ['T1598', { id: 'TA0043', name: 'Reconnaissance' }],
  ['T1078', { id: 'TA0001', name: 'Initial Access' }],
  ['T1041', { id: 'TA0010', name: 'Exfiltration' }],
]);

/** The tactic a technique of the table serves (for OCSF `attacks[].tactic`); a tactic id maps to itself. */
export function mitreTacticFor(technique: MitreTechnique): MitreTechnique | null {
  if (technique.id.startsWith('TA')) {
    return technique;
  }
  return TACTIC_OF_TECHNIQUE.get(technique.id.split('.')[0]!) ?? null;
}
