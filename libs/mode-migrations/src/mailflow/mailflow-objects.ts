import type { CmdletParameters } from '@mailwarden/microsoft365';

/** Where Exchange Online sends mail to the scanner and how it recognises the scanner relaying it back (libs/config). */
export interface MailflowAutomationSettings {
  /** Public host name of the scanner's SMTP front: the outbound connector's SmartHosts and TlsDomain. */
  scannerHost: string;
  /** Name in the certificate the scanner presents when relaying to Exchange (inbound TlsSenderCertificateName). */
  certificateName: string;
  /**
   * Addresses / CIDR ranges the scanner relays from (MAILFLOW_SCANNER_IP_RANGES): inbound SenderIPAddresses, EFSkipIPs,
   * and the transport rule's loop exception (ExceptIfSenderIpRanges). Required for the rule.
   */
  ipRanges: string[];
  /** The deployment's ARC sealing domain (added to ArcTrustedSealers); null: no ARC step. */
  arcSealDomain: string | null;
}

/** Names of the objects Mailwarden creates for an account: predictable, prefixed, unique per account. */
export interface MailflowObjectNames {
  prefix: string;
  inbound: string;
  outbound: string;
  rule: string;
}

export function mailflowObjectNames(accountId: string): MailflowObjectNames {
  const prefix = `Mailwarden - ${accountId.replace(/-/g, '').slice(0, 8).toLowerCase()}`;
  return { prefix, inbound: `${prefix} - Inbound`, outbound: `${prefix} - Outbound`, rule: `${prefix} - Route through Mailwarden` };
}

/** Written into Comment / Comments: removal checks it before removing an object it has no Guid record of. */
export const ownershipMark = (accountId: string): string => `Created by Mailwarden for account ${accountId}; changes are reported as tampering.`;

export function inboundConnectorParameters(settings: MailflowAutomationSettings, names: MailflowObjectNames, accountId: string): CmdletParameters {
  return {
    Name: names.inbound,
    ConnectorType: 'Partner',
    SenderDomains: ['*'],
    RequireTls: true,
    TlsSenderCertificateName: settings.certificateName,
    RestrictDomainsToCertificate: true,
    // The scanner's addresses as a second way to recognise it; Enhanced Filtering skips them so Exchange sees the
    // original sender's address (Microsoft's advice for a third-party filter in front of Exchange Online).
    ...(settings.ipRanges.length > 0 ? { SenderIPAddresses: settings.ipRanges, EFSkipIPs: settings.ipRanges } : {}),
    Comment: ownershipMark(accountId),
  };
}

export function outboundConnectorParameters(settings: MailflowAutomationSettings, names: MailflowObjectNames, accountId: string): CmdletParameters {
  return {
    Name: names.outbound,
    ConnectorType: 'Partner',
    UseMXRecord: false,
    SmartHosts: [settings.scannerHost],
    TlsSettings: 'DomainValidation',
    TlsDomain: settings.scannerHost,
    IsTransportRuleScoped: true,
    Comment: ownershipMark(accountId),
  };
}

/** Why the rule cannot be created without the scanner's egress ranges (the step's readable error). */
export const MISSING_SCANNER_RANGES =
  "MAILFLOW_SCANNER_IP_RANGES is not set: Mailwarden's transport rule lets through only mail that Exchange Online receives from the scanner's own addresses (its loop exception), so set MAILFLOW_SCANNER_IP_RANGES on the admin API to the addresses / CIDR ranges the scanner relays from (its egress IPs), restart it and retry the step.";

/**
 * Priority 0: Mailwarden's rule is evaluated first. Loop exception: mail Exchange Online received from the scanner's
 * egress addresses (`ExceptIfSenderIpRanges`: the IP that connected to Exchange, which no message content can change).
 * No header exception: a header like X-Mailwarden-Processed is written by anyone on the internet, and exceptions are
 * ORed, so any header exception would let forged mail skip Mailwarden; the header exceptions are set empty so that a
 * rule created by an earlier version loses its forgeable one when the step corrects it.
 */
export function transportRuleParameters(settings: MailflowAutomationSettings, names: MailflowObjectNames, domains: string[], accountId: string, groupGraphId?: string): CmdletParameters {
  if (settings.ipRanges.length === 0) {
    throw new Error(MISSING_SCANNER_RANGES);
  }
  return {
    Name: names.rule,
    Priority: 0,
    FromScope: 'NotInOrganization',
    RecipientDomainIs: [...domains].sort(),
    // Conditions are ANDed: members of the synced group in the protected domains. The group is named by its Entra
    // object id (Exchange Online's ExternalDirectoryObjectId; assumed accepted as the group's identity).
    ...(groupGraphId ? { SentToMemberOf: [groupGraphId] } : {}),
    RouteMessageOutboundConnector: names.outbound,
    ExceptIfSenderIpRanges: [...settings.ipRanges],
    ExceptIfHeaderContainsMessageHeader: null,
    ExceptIfHeaderContainsWords: null,
    Mode: 'Enforce',
    Comments: ownershipMark(accountId),
  };
}

/** Exchange writes some values in its own forms (`smtp:*;1` for a sender domain): compared without them. */
function normalize(value: unknown): unknown {
  const one = (item: unknown) => (typeof item === 'string' ? item.replace(/^smtp:/i, '').replace(/;\d+$/, '').trim().toLowerCase() : item);
  if (Array.isArray(value)) {
    return value.length === 0 ? null : value.map(one).sort(); // Exchange answers an unset list as null or []
  }
  return value === '' ? null : one(value);
}

/** The parameters whose value in Exchange differs from what Mailwarden set (Name and Identity excluded). */
export function differingParameters(actual: Record<string, unknown>, desired: CmdletParameters): string[] {
  return Object.keys(desired).filter((key) => key !== 'Name' && JSON.stringify(normalize(actual[key] ?? null)) !== JSON.stringify(normalize(desired[key] ?? null)));
}

// ---- conflicts ---------------------------------------------------------------------------------------------------

export interface MailflowConflict {
  kind: 'transport-rule' | 'inbound-connector' | 'outbound-connector';
  name: string;
  /** Transport rules: their priority (0 = first). */
  priority: number | null;
  /** What the object does to mail of the protected domains, in words. */
  description: string;
}

type ExoRecord = Record<string, unknown>;
const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' && value ? [value] : []);
const text = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
const inDomains = (domain: string, domains: string[]) => domains.some((protectedDomain) => domain === protectedDomain || domain.endsWith(`.${protectedDomain}`) || protectedDomain.endsWith(`.${domain}`));
const addressDomain = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Which protected domains (or which recipients) a rule's recipient conditions reach; null: none of them. */
function ruleReach(rule: ExoRecord, domains: string[]): string | null {
  const scope = text(rule.SentToScope);
  if ((scope && scope !== 'InOrganization') || text(rule.FromScope) === 'InOrganization') {
    return null; // applies to mail leaving the organisation, or to internal senders only: not to inbound mail
  }
  const exceptDomains = list(rule.ExceptIfRecipientDomainIs).map((domain) => domain.toLowerCase());
  const reachable = domains.filter((domain) => !exceptDomains.some((excepted) => domain === excepted || domain.endsWith(`.${excepted}`)));
  if (reachable.length === 0) {
    return null;
  }
  const recipientDomains = list(rule.RecipientDomainIs).map((domain) => domain.toLowerCase());
  if (recipientDomains.length > 0) {
    const hit = recipientDomains.filter((domain) => inDomains(domain, reachable));
    return hit.length > 0 ? `mail for ${hit.join(', ')}` : null;
  }
  const sentTo = list(rule.SentTo);
  if (sentTo.length > 0) {
    const hit = sentTo.filter((address) => inDomains(addressDomain(address), reachable));
    return hit.length > 0 ? `mail for ${hit.join(', ')}` : null;
  }
  const members = list(rule.SentToMemberOf);
  if (members.length > 0) {
    return `mail for members of ${members.join(', ')} (may include ${reachable.join(', ')})`;
  }
  const senders = [...list(rule.From), ...list(rule.SenderDomainIs)];
  return senders.length > 0 ? `mail from ${senders.join(', ')} to ${reachable.join(', ')}` : `all mail for ${reachable.join(', ')}`;
}

/** What a rule does that takes mail off its path; empty: nothing that routes, redirects or drops it. */
function ruleActions(rule: ExoRecord): string[] {
  const actions: string[] = [];
  const connector = text(rule.RouteMessageOutboundConnector);
  if (connector) {
    actions.push(`routes it through the outbound connector '${connector}'`);
  }
  const redirect = list(rule.RedirectMessageTo);
  if (redirect.length > 0) {
    actions.push(`redirects it to ${redirect.join(', ')}`);
  }
  if (rule.DeleteMessage === true) {
    actions.push('deletes it without notice');
  }
  if (rule.Quarantine === true) {
    actions.push('quarantines it');
  }
  const reject = text(rule.RejectMessageReasonText);
  if (reject) {
    actions.push(`rejects it ("${reject}")`);
  }
  const moderators = list(rule.ModerateMessageByUser);
  if (moderators.length > 0) {
    actions.push(`holds it for moderation by ${moderators.join(', ')}`);
  }
  return actions;
}

/**
 * The tenant's own transport rules and connectors that would route, redirect or drop mail of the protected domains,
 * or that claim the same domains (read-only: nothing is changed, reordered or removed). Disabled rules and rules in
 * an audit mode do not act on mail and are not reported; Mailwarden's own objects (by name) are left out.
 */
export function findMailflowConflicts(input: {
  rules: ExoRecord[];
  inboundConnectors: ExoRecord[];
  outboundConnectors: ExoRecord[];
  domains: string[];
  names: MailflowObjectNames;
}): MailflowConflict[] {
  const domains = input.domains.map((domain) => domain.toLowerCase());
  const ours = new Set([input.names.inbound, input.names.outbound, input.names.rule].map((name) => name.toLowerCase()));
  const foreign = (object: ExoRecord) => !ours.has(String(object.Name ?? '').toLowerCase());
  const conflicts: MailflowConflict[] = [];
  for (const rule of [...input.rules].filter(foreign).sort((a, b) => Number(a.Priority ?? 0) - Number(b.Priority ?? 0))) {
    if (text(rule.State) === 'Disabled' || (text(rule.Mode) ?? 'Enforce') !== 'Enforce') {
      continue;
    }
    const reach = ruleReach(rule, domains);
    const actions = ruleActions(rule);
    if (reach && actions.length > 0) {
      const priority = Number(rule.Priority ?? 0);
      conflicts.push({
        kind: 'transport-rule',
        name: String(rule.Name),
        priority,
        description: `Transport rule '${String(rule.Name)}' (priority ${priority}) applies to ${reach} and ${actions.join(', ')}.`,
      });
    }
  }
  for (const connector of input.outboundConnectors.filter(foreign)) {
    const hit = list(connector.RecipientDomains).map((domain) => domain.replace(/^smtp:/i, '').replace(/;\d+$/, '').toLowerCase()).filter((domain) => domain === '*' || inDomains(domain, domains));
    if (connector.Enabled !== false && hit.length > 0) {
      const target = connector.UseMXRecord === false ? `the smart hosts ${list(connector.SmartHosts).join(', ')}` : 'the MX of the recipient domain';
      conflicts.push({
        kind: 'outbound-connector',
        name: String(connector.Name),
        priority: null,
        description: `Outbound connector '${String(connector.Name)}' sends mail for ${hit.join(', ')} to ${target}.`,
      });
    }
  }
  for (const connector of input.inboundConnectors.filter(foreign)) {
    if (connector.Enabled === false) {
      continue;
    }
    const senders = list(connector.SenderDomains).map((domain) => domain.replace(/^smtp:/i, '').replace(/;\d+$/, '').toLowerCase());
    const same = senders.filter((domain) => domain !== '*' && inDomains(domain, domains));
    const restricts = connector.RestrictDomainsToCertificate === true || connector.RestrictDomainsToIPAddresses === true;
    const from = [text(connector.TlsSenderCertificateName) && `the certificate ${String(connector.TlsSenderCertificateName)}`, list(connector.SenderIPAddresses).length > 0 && `the addresses ${list(connector.SenderIPAddresses).join(', ')}`]
      .filter(Boolean)
      .join(' or ');
    if (same.length > 0) {
      conflicts.push({
        kind: 'inbound-connector',
        name: String(connector.Name),
        priority: null,
        description: `Inbound connector '${String(connector.Name)}' (${String(connector.ConnectorType ?? 'Partner')}) claims mail from ${same.join(', ')}${from ? ` sent by ${from}` : ''}${restricts ? ' and rejects it from anywhere else' : ''}.`,
      });
    } else if (senders.includes('*') && restricts) {
      conflicts.push({
        kind: 'inbound-connector',
        name: String(connector.Name),
        priority: null,
        description: `Inbound connector '${String(connector.Name)}' accepts mail of every sender domain only from ${from || 'its partner'}: mail relayed back by Mailwarden would be rejected.`,
      });
    }
  }
  return conflicts;
}
