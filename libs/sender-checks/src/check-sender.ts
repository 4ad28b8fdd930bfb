import type { ARCResult, DKIMVerifyResult, DMARCResult, DNSResolver } from 'mailauth';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { getAlignment } from 'mailauth/lib/tools';
import type { SPFResult } from 'mailauth/lib/spf';
import type { AddressList, DmarcFailureAction, PolicyAction, SenderCheckName, SenderCheckSettings } from '@mailwarden/policy';
import { POLICY_ACTIONS, SENDER_CHECK_ORDER } from '@mailwarden/policy';
import { verifyArc, verifyDkim, verifyDmarc, verifySpf } from './authenticate-message';
import { DnsError, DnsResolveFunction } from './dns-resolver';
import { SenderCheckInputError } from './sender-check-input.error';
import type {
  AllowListMatch,
  ArcEvidence,
  DkimCheckRecord,
  DmarcCheckRecord,
  DmarcEvidence,
  DmarcPolicy,
  HeaderAnomalyCheckRecord,
  RecipientVerdict,
  SenderCheckInput,
  SenderCheckOptions,
  RecipientAnomalyEvidence,
  SenderCheckRecord,
  SenderCheckReport,
  SpfCheckRecord,
} from './sender-checks.types';

/**
 * Runs the inbound sender checks of DESIGN.md §4 on one message: DMARC, SPF, DKIM, header anomaly,
 * in that order. The first check that fails decides (its configured action) and the later ones are
 * recorded as not run; a temperror is recorded and never a failure; disabled checks are recorded as
 * disabled; a sender on the inbound allow list skips every check (no DNS query is made).
 * Usable without Nest; {@link SenderChecksService} wraps it with the injected resolver.
 */
export async function checkSender(input: SenderCheckInput, options: SenderCheckOptions): Promise<SenderCheckReport> {
  validateInput(input);
  const settings = input.settings.senderChecks;
  const session = new AuthenticationSession(input, options);

  const allowList = input.settings.allowList;
  const allowListed =
    allowList.domains.length || allowList.addresses.length
      ? matchAllowList(allowList, [
          { identity: 'envelope-sender', address: input.envelopeSender },
          ...(await session.headerFrom()).map((address) => ({ identity: 'header-from' as const, address })),
        ])
      : null;
  if (allowListed) {
    const skipped = (check: SenderCheckName) => ({ check, status: 'skipped-by-allow-list' as const, temporaryError: false });
    return finish(
      input,
      [skipped('dmarc'), skipped('spf'), skipped('dkim'), skipped('header-anomaly')] as SenderCheckReport['checks'],
      allowListed,
    );
  }

  const records: Partial<Record<SenderCheckName, SenderCheckRecord>> = {};
  let decided = false;
  for (const name of SENDER_CHECK_ORDER) {
    if (!isEnabled(settings, name)) {
      records[name] = { check: name, status: 'disabled', temporaryError: false } as SenderCheckRecord;
      continue;
    }
    if (decided) {
      records[name] = { check: name, status: 'not-run', temporaryError: false } as SenderCheckRecord;
      continue;
    }
    const record = await runCheck(name, session, input, options);
    records[name] = record;
    decided = record.status === 'fail';
  }
  return finish(input, [records.dmarc, records.spf, records.dkim, records['header-anomaly']] as SenderCheckReport['checks'], null);
}

function validateInput(input: SenderCheckInput): void {
  if (!Buffer.isBuffer(input?.message)) {
    throw new SenderCheckInputError('message must be a Buffer holding the raw message');
  }
  if (typeof input.clientIp !== 'string' || !input.clientIp) {
    throw new SenderCheckInputError('clientIp is required');
  }
  if (typeof input.envelopeSender !== 'string') {
    throw new SenderCheckInputError('envelopeSender must be a string (empty for the null reverse-path)');
  }
  if (!Array.isArray(input.envelopeRecipients) || !input.envelopeRecipients.length) {
    throw new SenderCheckInputError('envelopeRecipients must list at least one recipient');
  }
  if (!input.settings?.senderChecks || !input.settings.allowList) {
    throw new SenderCheckInputError('settings.senderChecks and settings.allowList are required');
  }
}

function isEnabled(settings: SenderCheckSettings, name: SenderCheckName): boolean {
  switch (name) {
    case 'dmarc':
      return settings.dmarc.enabled;
    case 'spf':
      return settings.spf.enabled;
    case 'dkim':
      return settings.dkim.enabled;
    case 'header-anomaly':
      return settings.headerAnomaly.enabled;
  }
}

async function runCheck(name: SenderCheckName, session: AuthenticationSession, input: SenderCheckInput, options: SenderCheckOptions): Promise<SenderCheckRecord> {
  const settings = input.settings.senderChecks;
  switch (name) {
    case 'dmarc': {
      const record = await dmarcCheck(await session.dmarc(), () => session.arc(), settings, options.random ?? Math.random);
      // DMARC is computed from SPF and DKIM: its evidence shows both, even when its failure stops the later checks
      // (that rule governs the action, not what the admin sees: "DMARC fail, p=none" still shows the SPF fail).
      const spf = spfCheck(await session.spf(), input, settings.spf.action);
      const dkim = dkimCheck(await session.dkim(), settings.dkim.action);
      record.evidence = { ...record.evidence!, computedFrom: { spf: { status: spf.status, ...spf.evidence! }, dkim: { status: dkim.status, ...dkim.evidence! } } };
      return record;
    }
    case 'spf':
      return spfCheck(await session.spf(), input, settings.spf.action);
    case 'dkim':
      return dkimCheck(await session.dkim(), settings.dkim.action);
    case 'header-anomaly':
      return headerAnomalyCheck(await session.headerFrom(), input, settings.headerAnomaly.action);
  }
}

/** Runs each protocol at most once, and only when a check asks for it (a check that is not run costs no DNS). */
class AuthenticationSession {
  private dkimResult?: Promise<DKIMVerifyResult>;
  private spfResult?: Promise<SPFResult>;
  private arcResult?: Promise<ARCResult>;
  private dmarcResult?: Promise<{ dmarc: DMARCResult | false; skipReason?: string }>;
  private fromResult?: Promise<string[]>;

  constructor(
    private readonly input: SenderCheckInput,
    private readonly options: SenderCheckOptions,
  ) {}

  dkim(): Promise<DKIMVerifyResult> {
    this.dkimResult ??= verifyDkim(this.input.message, {
      resolver: this.options.resolver,
      envelopeSender: this.input.envelopeSender,
      verificationTime: this.options.verificationTime,
    });
    return this.dkimResult;
  }

  spf(): Promise<SPFResult> {
    this.spfResult ??= verifySpf(this.input, { resolver: this.options.resolver, authservId: this.options.authservId });
    return this.spfResult;
  }

  arc(): Promise<ARCResult> {
    this.arcResult ??= this.dkim().then((dkim) => verifyArc(dkim, { resolver: this.options.resolver, clientIp: this.input.clientIp }));
    return this.arcResult;
  }

  dmarc(): Promise<{ dmarc: DMARCResult | false; skipReason?: string }> {
    this.dmarcResult ??= Promise.all([this.dkim(), this.spf()]).then(([dkim, spf]) =>
      verifyDmarc({
        headerFrom: dkim.headerFrom ?? [],
        fromFields: dkim.fromFields,
        // RFC 9989 4.4: only a passing SPF result and passing DKIM signatures can align
        spfDomains: spf.status.result === 'pass' && spf.domain ? [spf.domain] : [],
        dkimDomains: (dkim.results ?? []).filter((r) => r.status.result === 'pass' && r.signingDomain).map((r) => r.signingDomain!),
        resolver: this.options.resolver,
      }),
    );
    return this.dmarcResult;
  }

  /**
   * Header From addresses, read by mailauth's own header parser (so DMARC and the header anomaly
   * check see the same author). Before DKIM has run, only the header block is parsed, without DNS.
   */
  headerFrom(): Promise<string[]> {
    this.fromResult ??= (this.dkimResult ?? dkimVerify(headerBlock(this.input.message), { resolver: refuseDns as DNSResolver })).then(
      (dkim) => dkim.headerFrom ?? [],
    );
    return this.fromResult;
  }
}

/** Used when only the headers are needed: any key lookup is answered NXDOMAIN without a query. */
const refuseDns: DnsResolveFunction = async (name, rrtype) => {
  throw new DnsError('ENOTFOUND', name, rrtype);
};

/** The header section and the empty line that ends it (RFC 5322 2.1); the whole message if there is no body. */
function headerBlock(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  if (end >= 0) {
    return message.subarray(0, end + 4);
  }
  const bareEnd = message.indexOf('\n\n');
  return bareEnd >= 0 ? message.subarray(0, bareEnd + 2) : message;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
}

/** Inbound allow list: exact addresses, and domains including their subdomains (lower-case entries). */
export function matchAllowList(list: AddressList, identities: { identity: AllowListMatch['identity']; address: string }[]): AllowListMatch | null {
  for (const { identity, address } of identities) {
    const normalised = address.trim().toLowerCase();
    if (!normalised.includes('@')) {
      continue;
    }
    const addressEntry = list.addresses.find((entry) => entry.toLowerCase() === normalised);
    if (addressEntry) {
      return { identity, address, entry: addressEntry, kind: 'address' };
    }
    const domain = domainOf(normalised);
    const domainEntry = list.domains.find((entry) => {
      const d = entry.toLowerCase().replace(/^\.+|\.$/g, '');
      return !!d && (domain === d || domain.endsWith(`.${d}`));
    });
    if (domainEntry) {
      return { identity, address, entry: domainEntry, kind: 'domain' };
    }
  }
  return null;
}

/** RFC 7208 8.4: only `fail` is a failure; softfail, neutral, none and permerror are recorded. */
function spfCheck(spf: SPFResult, input: SenderCheckInput, action: PolicyAction): SpfCheckRecord {
  const result = spf.status.result;
  const status = (['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror'] as const).find((s) => s === result) ?? 'permerror';
  return {
    check: 'spf',
    status,
    temporaryError: status === 'temperror',
    ...(status === 'fail' ? { action } : {}),
    ...(status === 'temperror' ? { actionIfFailed: action } : {}),
    evidence: {
      result,
      domain: spf.domain,
      clientIp: input.clientIp,
      helo: input.helo,
      envelopeSender: input.envelopeSender,
      ...(spf.rr ? { record: spf.rr } : {}),
      ...(spf.status.comment ? { comment: spf.status.comment } : {}),
    },
  };
}

/**
 * DKIM: a signature that is present and does not verify is a failure (dkim=fail: bad signature or
 * body hash; dkim=policy: rsa-sha1 or a key under 1024 bits, RFC 8301), unless another signature
 * verifies or could still verify (a key lookup that ended in temperror). No signature is `none`. A
 * signature that cannot be evaluated (unusable or missing key, malformed tags: neutral/permerror) is
 * recorded as permerror, and a DNS failure as temperror.
 */
function dkimCheck(dkim: DKIMVerifyResult, action: PolicyAction): DkimCheckRecord {
  const signatures = (dkim.results ?? [])
    .filter((r) => r.status.result !== 'none')
    .map((r) => ({
      domain: r.signingDomain ?? '',
      selector: r.selector ?? '',
      algorithm: r.algo ?? '',
      ...(r.format ? { canonicalization: r.format } : {}),
      result: r.status.result,
      ...(r.status.comment ? { comment: r.status.comment } : {}),
      ...(typeof r.modulusLength === 'number' ? { keyBits: r.modulusLength } : {}),
      ...(r.status.testing ? { testing: true } : {}),
    }));
  const results = new Set(signatures.map((s) => s.result));
  let status: DkimCheckRecord['status'];
  if (!signatures.length) {
    status = 'none';
  } else if (results.has('pass')) {
    status = 'pass';
  } else if (results.has('temperror')) {
    // a signature whose key could not be fetched may still verify on retry, and one passing
    // signature is enough (RFC 6376 6.1), so a DNS failure outranks the failing signatures
    status = 'temperror';
  } else if (results.has('fail') || results.has('policy')) {
    status = 'fail';
  } else {
    status = 'permerror';
  }
  return {
    check: 'dkim',
    status,
    temporaryError: status === 'temperror',
    ...(status === 'fail' ? { action } : {}),
    ...(status === 'temperror' ? { actionIfFailed: action } : {}),
    evidence: { signatures },
  };
}

const POLICY_ACTION_FOR: Record<DmarcPolicy, PolicyAction> = { none: 'DELIVER', quarantine: 'QUARANTINE', reject: 'REJECT' };
/** RFC 7489 6.6.4: a message not sampled by pct= gets the next policy down. */
const NEXT_POLICY_DOWN: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

function asPolicy(value: unknown): DmarcPolicy | undefined {
  return value === 'none' || value === 'quarantine' || value === 'reject' ? value : undefined;
}

/** DMARC check; the ARC-Seal chain is only validated when DMARC failed (the override is all it is used for). */
async function dmarcCheck(
  evaluated: { dmarc: DMARCResult | false; skipReason?: string },
  arc: () => Promise<ARCResult>,
  settings: SenderCheckSettings,
  random: () => number,
): Promise<DmarcCheckRecord> {
  const { dmarc, skipReason } = evaluated;
  if (!dmarc) {
    // RFC 9989 5.3.1: no single author domain, DMARC cannot be evaluated
    return { check: 'dmarc', status: 'none', temporaryError: false, evidence: { result: 'none', ...(skipReason ? { skipReason } : {}) } };
  }
  const result = dmarc.status.result;
  const record = (dmarc as DMARCResult & { record?: { pct?: number } }).record;
  const pct = typeof record?.pct === 'number' ? Math.min(Math.max(record.pct, 0), 100) : 100;
  const policy = asPolicy(dmarc.policy);
  const evidence: DmarcEvidence = {
    result,
    ...(dmarc.status.header?.from ? { fromDomain: dmarc.status.header.from } : {}),
    ...(dmarc.policyDomain ? { policyDomain: dmarc.policyDomain } : {}),
    ...(dmarc.rr ? { record: dmarc.rr } : {}),
    ...(dmarc.p ? { p: dmarc.p, sp: dmarc.sp, pct } : {}),
    ...(dmarc.np ? { np: dmarc.np } : {}),
    ...(dmarc.rr ? { testMode: !!dmarc.testMode } : {}),
    ...(policy ? { policy } : {}),
    ...(dmarc.alignment
      ? {
          alignment: {
            spf: { domain: dmarc.alignment.spf?.result, strict: !!dmarc.alignment.spf?.strict },
            dkim: { domain: dmarc.alignment.dkim?.result, strict: !!dmarc.alignment.dkim?.strict },
          },
        }
      : {}),
  };

  if (result === 'temperror') {
    return {
      check: 'dmarc',
      status: 'temperror',
      temporaryError: true,
      // the sender's policy is not known: assume the strongest it could be
      actionIfFailed: settings.dmarc.action === 'FOLLOW_SENDER_POLICY' ? 'REJECT' : settings.dmarc.action,
      evidence,
    };
  }
  if (result !== 'fail') {
    const status = result === 'pass' || result === 'none' || result === 'permerror' ? result : 'permerror';
    return { check: 'dmarc', status, temporaryError: false, evidence };
  }

  evidence.arc = arcEvidence(await arc(), settings.trustedArcSealers, evidence.fromDomain);
  if (evidence.arc.overridesDmarcFailure) {
    // RFC 8617 7.2.1 / RFC 9989 11.7: a receiver may accept a DMARC failure on the word of a
    // trusted intermediary whose ARC set recorded a pass; the DMARC result itself stays `fail`
    return { check: 'dmarc', status: 'pass', temporaryError: false, evidence };
  }

  let appliedPolicy = policy ?? 'none';
  if (pct < 100) {
    evidence.sampled = random() * 100 < pct;
    if (!evidence.sampled) {
      appliedPolicy = NEXT_POLICY_DOWN[appliedPolicy];
    }
  }
  evidence.appliedPolicy = appliedPolicy;
  return { check: 'dmarc', status: 'fail', temporaryError: false, action: dmarcAction(settings.dmarc.action, appliedPolicy), evidence };
}

function dmarcAction(configured: DmarcFailureAction, appliedPolicy: DmarcPolicy): PolicyAction {
  return configured === 'FOLLOW_SENDER_POLICY' ? POLICY_ACTION_FOR[appliedPolicy] : configured;
}

interface ParsedAar {
  dmarc?: { result?: string; header?: { from?: string } };
  spf?: { result?: string; smtp?: { mailfrom?: string; helo?: string } };
  dkim?: { result?: string; header?: { d?: string; i?: string } }[];
}

/**
 * ARC override of a DMARC failure: the chain validates (cv=pass), the newest ARC-Seal was made by a
 * trusted sealer, and that sealer's ARC-Authentication-Results recorded dmarc=pass for this author
 * domain, or an SPF/DKIM pass whose domain aligns (relaxed) with it.
 */
function arcEvidence(arc: ARCResult, trustedSealers: string[], fromDomain: string | undefined): ArcEvidence {
  const chain = (arc as ARCResult & { chain?: { i: number; 'arc-seal'?: { parsed?: { d?: { value?: string } } } }[] }).chain;
  const newest = Array.isArray(chain) && chain.length ? chain[chain.length - 1] : undefined;
  const sealer = newest?.['arc-seal']?.parsed?.d?.value?.toString().toLowerCase();
  const trustedSealer = !!sealer && trustedSealers.some((entry) => entry.toLowerCase() === sealer);
  const aar = (arc.authenticationResults ?? {}) as ParsedAar;
  const recorded: ArcEvidence['recorded'] = {
    ...(aar.dmarc?.result ? { dmarc: aar.dmarc.result } : {}),
    ...(aar.spf?.result ? { spf: aar.spf.result, spfDomain: domainOf(aar.spf.smtp?.mailfrom ?? '') || aar.spf.smtp?.helo } : {}),
    ...(aar.dkim?.length ? { dkim: aar.dkim.map((d) => ({ result: d.result ?? '', domain: d.header?.d ?? (domainOf(d.header?.i ?? '') || undefined) })) } : {}),
  };
  const evidence: ArcEvidence = {
    result: arc.status.result,
    ...(arc.status.comment ? { comment: arc.status.comment } : {}),
    ...(typeof arc.i === 'number' && arc.i > 0 ? { instance: arc.i } : {}),
    ...(sealer ? { sealer } : {}),
    trustedSealer,
    ...(arc.status.result === 'pass' ? { recorded } : {}),
    overridesDmarcFailure: false,
  };
  if (arc.status.result !== 'pass' || !trustedSealer || !fromDomain) {
    return evidence;
  }
  const aligns = (domain: string | undefined) => !!domain && !!getAlignment(fromDomain, [domain], false);
  const recordedFrom = aar.dmarc?.header?.from?.toLowerCase();
  if (recorded.dmarc === 'pass' && (!recordedFrom || recordedFrom === fromDomain.toLowerCase())) {
    evidence.overridesDmarcFailure = true;
    evidence.overrideReason = `sealer ${sealer} recorded dmarc=pass`;
  } else if (recorded.spf === 'pass' && aligns(recorded.spfDomain)) {
    evidence.overridesDmarcFailure = true;
    evidence.overrideReason = `sealer ${sealer} recorded spf=pass for aligned ${recorded.spfDomain}`;
  } else {
    const dkim = recorded.dkim?.find((d) => d.result === 'pass' && aligns(d.domain));
    if (dkim) {
      evidence.overridesDmarcFailure = true;
      evidence.overrideReason = `sealer ${sealer} recorded dkim=pass for aligned ${dkim.domain}`;
    }
  }
  return evidence;
}

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
function headerAnomalyCheck(headerFrom: string[], input: SenderCheckInput, action: PolicyAction): HeaderAnomalyCheckRecord {
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

const SEVERITY = (action: PolicyAction) => POLICY_ACTIONS.indexOf(action);

function finish(input: SenderCheckInput, checks: SenderCheckReport['checks'], allowListed: AllowListMatch | null): SenderCheckReport {
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
