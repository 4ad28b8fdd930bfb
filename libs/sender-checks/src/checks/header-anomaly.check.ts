import type { PolicyAction } from '@mailwarden/policy';
import { domainOf } from '../address';
import type { HeaderAnomalyCheckRecord, SenderCheckInput } from '../sender-checks.types';

/** At most this many header From addresses, each at most this long, are kept as evidence (a From may be any size). */
const MAX_EVIDENCE_ADDRESSES = 10;
const MAX_EVIDENCE_ADDRESS_LENGTH = 320;

const boundedAddress = (address: string) => (address.length > MAX_EVIDENCE_ADDRESS_LENGTH ? `${address.slice(0, MAX_EVIDENCE_ADDRESS_LENGTH)}…` : address);

/**
 * Header anomaly (a spoof of the recipient's own domain from outside), per recipient in the
 * account's domains: the header From domain equals the recipient's domain and the header From
 * address differs from the envelope sender. Linear in the recipients (one pass, a set of From domains);
 * the evidence keeps a bounded excerpt of the From addresses.
 */
export function headerAnomalyCheck(headerFrom: string[], input: SenderCheckInput, action: PolicyAction): HeaderAnomalyCheckRecord {
  const accountDomains = new Set(input.accountDomains.map((d) => d.toLowerCase().replace(/\.$/, '')));
  const sender = input.envelopeSender.trim().toLowerCase();
  const fromAddresses = headerFrom.map((a) => a.trim().toLowerCase()).filter((a) => a.includes('@'));
  // Domains of the From addresses other than the envelope sender: a recipient in one of them sees a spoof.
  const spoofedDomains = new Set(fromAddresses.filter((from) => from !== sender).map(domainOf));
  const recipients = input.envelopeRecipients.map((recipient) => {
    const domain = domainOf(recipient);
    const inAccountDomain = accountDomains.has(domain);
    const anomaly = inAccountDomain && spoofedDomains.has(domain);
    return { recipient, domain, inAccountDomain, anomaly };
  });
  const evaluated = fromAddresses.length > 0 && recipients.some((r) => r.inAccountDomain);
  const failedRecipients = recipients.filter((r) => r.anomaly).map((r) => r.recipient);
  const status = !evaluated ? 'none' : failedRecipients.length ? 'fail' : 'pass';
  const from = headerFrom.slice(0, MAX_EVIDENCE_ADDRESSES).map(boundedAddress);
  return {
    check: 'header-anomaly',
    status,
    temporaryError: false,
    ...(status === 'fail' ? { action, failedRecipients } : {}),
    evidence: {
      headerFrom: from,
      ...(headerFrom.length > from.length || headerFrom.some((address) => address.length > MAX_EVIDENCE_ADDRESS_LENGTH) ? { headerFromTruncated: true, headerFromCount: headerFrom.length } : {}),
      envelopeSender: boundedAddress(input.envelopeSender),
      recipients,
    },
  };
}
