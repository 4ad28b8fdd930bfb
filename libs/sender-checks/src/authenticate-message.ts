import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import type { ARCResult, DKIMResult, DKIMVerifyResult, DMARCResult, DNSResolver } from 'mailauth';
import { DnsResolveFunction } from './dns-resolver';
import { arc, dkimVerify, evaluateDmarc, getPublicKey, KEY_ERROR_COMMENTS, spf, type SPFResult } from './mailauth.adapter';

/** RFC 8301 section 3.2: RSA keys shorter than this must not be considered valid. */
export const MIN_RSA_KEY_BITS = 1024;

export interface AuthenticateMessageInput {
  /** The raw message, as received (CRLF line endings). */
  message: Buffer;
  /** SMTP client address. */
  clientIp: string;
  /** HELO/EHLO name; an address literal or a bare IP is checked as `[ip]`. */
  helo: string;
  /** MAIL FROM address; empty string for the null reverse-path `<>`. */
  envelopeSender: string;
}

export interface AuthenticateMessageOptions {
  resolver: DnsResolveFunction;
  /** authserv-id of the results (RFC 8601 section 2.5); our host name. */
  authservId?: string;
  /** Verification time for DKIM t=/x= (defaults to now); conformance replays pin it. */
  verificationTime?: Date | number;
}

/** Raw per-protocol results, after Mailwarden's standards corrections. */
export interface MessageAuthentication {
  dkim: DKIMVerifyResult;
  spf: SPFResult;
  arc: ARCResult;
  dmarc: DMARCResult | false;
  /** Why DMARC could not be evaluated (RFC 9989 5.3.1), when `dmarc` is false. */
  dmarcSkipReason?: string;
  /** Header From addresses (addr-spec, as written). */
  headerFrom: string[];
}

/**
 * Runs DKIM, SPF, ARC and DMARC over one message with mailauth in strict mode (every check follows
 * its RFC rather than mailauth's lenient defaults), plus corrections where mailauth on its own is
 * wrong or too lenient for a gateway:
 * - RFC 8301 3.1/3.2: rsa-sha1 signatures and RSA keys under 1024 bits never count as pass, also
 *   for results that did not go through strict mode's checks.
 * - DKIM keys published as a bare PKCS#1 RSAPublicKey (instead of SubjectPublicKeyInfo, RFC 6376
 *   3.6.1) are converted before mailauth parses them; other verifiers (go-msgauth, OpenDKIM) accept them.
 * - ARC-Seal headers with malformed tag-lists fail the chain (RFC 8617 4.1.3 / RFC 6376 3.2).
 * - Legacy signatures that other verifiers accept, when that is all that is wrong with them ({@link ACCEPTED_LEGACY_WARNINGS}).
 * DMARC is evaluated after the corrections, so a corrected signature never aligns.
 */
export async function authenticateMessage(input: AuthenticateMessageInput, options: AuthenticateMessageOptions): Promise<MessageAuthentication> {
  if (!Buffer.isBuffer(input.message)) {
    throw new TypeError('authenticateMessage: message must be a Buffer');
  }
  const resolver = options.resolver;
  const dkim = await verifyDkim(input.message, { resolver, envelopeSender: input.envelopeSender, verificationTime: options.verificationTime });
  const spfResult = await verifySpf(input, { resolver, authservId: options.authservId });
  const arcResult = await verifyArc(dkim, { resolver, clientIp: input.clientIp });

  const { dmarc, skipReason: dmarcSkipReason } = await verifyDmarc(alignableIdentifiers(dkim, spfResult, resolver));

  return { dkim, spf: spfResult, arc: arcResult, dmarc, dmarcSkipReason, headerFrom: dkim.headerFrom ?? [] };
}

/**
 * DKIM verification of every signature (RFC 6376, RFC 8463), strict, with the RFC 8301 correction.
 * The result also carries the parsed ARC sets that {@link verifyArc} validates.
 */
export async function verifyDkim(
  message: Buffer,
  options: { resolver: DnsResolveFunction; envelopeSender?: string; verificationTime?: Date | number },
): Promise<DKIMVerifyResult> {
  const run = (strict: boolean) =>
    dkimVerify(message, {
      resolver: withPkcs1KeySupport(options.resolver) as DNSResolver,
      sender: options.envelopeSender,
      minBitLength: MIN_RSA_KEY_BITS,
      strict,
      curTime: options.verificationTime,
    });
  const dkim = await run(true);
  if (mayBeLegacySignature(dkim)) {
    acceptLegacySignatures(dkim, await run(false));
  }
  const resolver = withPkcs1KeySupport(options.resolver);
  for (const result of dkim.results ?? []) {
    await checkKeyBeforeBodyHash(result, resolver);
    enforceRfc8301(result);
  }
  return dkim;
}

/**
 * What strict mode refuses but other verifiers accept, and we accept too when it is the only thing wrong (mailauth's
 * lenient mode names it in `warnings`): a DKIM-Signature without `v=` or with the draft-era `q=dns` (Mail::DKIM and
 * the corpus's `expectedModern` pass these; RFC 6376 3.5 says PERMFAIL), and an ARC-Message-Signature without `c=`
 * that verifies as relaxed/relaxed, the default of the ARC drafts that ValiMail's suite follows (RFC 8617 imports
 * simple/simple). Neither lets anyone pass without the signing key. An AMS that does not sign From is NOT accepted:
 * with From unsigned a message sealed by a trusted sealer could have its From replaced and still override DMARC.
 */
const ACCEPTED_LEGACY_WARNINGS: ReadonlySet<string> = new Set(['missing-v', 'query-method', 'ams-c-default']);
const LEGACY_STRICT_COMMENTS: ReadonlySet<string> = new Set(['signature missing required tag', 'unsupported query method']);

type ArcEntry = { 'arc-message-signature'?: { parsed?: { c?: unknown } }; messageSignature?: DKIMResult };
const arcLastEntry = (dkim: DKIMVerifyResult) => (dkim as { arc?: { lastEntry?: ArcEntry } }).arc?.lastEntry;

/** Only these strict outcomes can come from a legacy signature; anything else skips the second, lenient run. */
function mayBeLegacySignature(dkim: DKIMVerifyResult): boolean {
  const ams = arcLastEntry(dkim);
  const amsWithoutC = !!ams?.messageSignature && ams.messageSignature.status.result !== 'pass' && !ams['arc-message-signature']?.parsed?.c;
  return amsWithoutC || (dkim.results ?? []).some((result) => LEGACY_STRICT_COMMENTS.has(String(result.status.comment ?? '')));
}

/** Takes the lenient result of a signature (matched by its b= value) when it passes with accepted warnings only. */
function acceptLegacySignatures(strict: DKIMVerifyResult, lenient: DKIMVerifyResult): void {
  const acceptable = (result: DKIMResult | undefined): result is DKIMResult =>
    result?.status.result === 'pass' && ((result.status as { warnings?: string[] }).warnings ?? []).every((warning) => ACCEPTED_LEGACY_WARNINGS.has(warning));
  const lenientBySignature = new Map((lenient.results ?? []).map((result) => [result.signature, result]));
  strict.results = (strict.results ?? []).map((result) => {
    const replacement = result.status.result === 'pass' ? undefined : lenientBySignature.get(result.signature);
    return acceptable(replacement) ? replacement : result;
  });
  const [strictAms, lenientAms] = [arcLastEntry(strict), arcLastEntry(lenient)];
  const lenientSignature = lenientAms?.messageSignature;
  if (strictAms?.messageSignature && lenientSignature?.signature === strictAms.messageSignature.signature && acceptable(lenientSignature)) {
    strictAms.messageSignature = lenientSignature;
  }
}

/** SPF (RFC 7208) for the MAIL FROM identity, or postmaster@HELO when MAIL FROM is null (RFC 7208 2.4). */
export async function verifySpf(
  input: Pick<AuthenticateMessageInput, 'clientIp' | 'helo' | 'envelopeSender'>,
  options: { resolver: DnsResolveFunction; authservId?: string },
): Promise<SPFResult> {
  // RFC 7208 2.3: a HELO identity that is an IP address is written as an address literal
  const helo = input.helo && isIP(input.helo) ? `[${input.helo}]` : input.helo || `[${input.clientIp}]`;
  return spf({
    sender: input.envelopeSender,
    ip: input.clientIp,
    helo,
    mta: options.authservId ?? 'mailwarden',
    resolver: options.resolver as DNSResolver,
    strict: true,
  });
}

/** ARC chain validation (RFC 8617 5.2) of the sets {@link verifyDkim} parsed. */
export async function verifyArc(dkim: DKIMVerifyResult, options: { resolver: DnsResolveFunction; clientIp?: string }): Promise<ARCResult> {
  const arcData = (dkim as { arc?: Parameters<typeof arc>[0] }).arc ?? { chain: [] };
  return arc(arcData, {
    resolver: withPkcs1KeySupport(options.resolver) as DNSResolver,
    minBitLength: MIN_RSA_KEY_BITS,
    strict: true,
    ip: options.clientIp,
  } as Parameters<typeof arc>[1]);
}

/** What a DMARC evaluation is given: the author addresses and the identifiers that authenticated. */
export interface DmarcEvaluationInput {
  /** RFC5322.From addresses of the message. */
  headerFrom: string[];
  /** Number of From header fields (RFC 5322 allows one). */
  fromFields?: number;
  /** Domains SPF authenticated (a `pass`): MAIL FROM domain, or the HELO domain for a null MAIL FROM. */
  spfDomains: string[];
  /** d= of DKIM signatures that passed. */
  dkimDomains: string[];
  resolver: DnsResolveFunction;
}

/** The DMARC input of a message's DKIM and SPF results. RFC 9989 4.4: only a passing SPF result and passing DKIM signatures can align. */
export function alignableIdentifiers(dkim: DKIMVerifyResult, spfResult: SPFResult, resolver: DnsResolveFunction): DmarcEvaluationInput {
  return {
    headerFrom: dkim.headerFrom ?? [],
    fromFields: dkim.fromFields,
    spfDomains: spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
    dkimDomains: (dkim.results ?? []).filter((r) => r.status.result === 'pass' && r.signingDomain).map((r) => r.signingDomain!),
    resolver,
  };
}

/**
 * DMARC (RFC 9989, which obsoletes RFC 7489): policy discovery by DNS Tree Walk, identifier
 * alignment, and the policy that applies (p, sp for existing subdomains, np for non-existent ones).
 * `dmarc` is false when the message has no single author domain; `skipReason` says why.
 */
export async function verifyDmarc(input: DmarcEvaluationInput): Promise<{ dmarc: DMARCResult | false; skipReason?: string }> {
  if (!input.headerFrom.length) {
    return { dmarc: false, skipReason: 'no-author-domain' };
  }
  const evaluated = await evaluateDmarc({
    headerFrom: input.headerFrom,
    fromFields: input.fromFields ?? 1,
    spfDomains: input.spfDomains,
    dkimDomains: input.dkimDomains.map((domain) => ({ domain })),
    resolver: input.resolver as DNSResolver,
    strict: true,
  });
  return { dmarc: evaluated.response, skipReason: evaluated.response ? undefined : evaluated.reason };
}

/**
 * RFC 6376 6.1: the verifier gets the public key (6.1.2) before it computes the body hash (6.1.3),
 * so a signature whose key cannot be had is PERMFAIL/TEMPFAIL for the key, whatever the body.
 * mailauth compares the body hash first and reports `fail` without looking the key up; this looks it
 * up and reports what the key step yields (RFC 8601 2.7.1: neutral/permerror for a key problem,
 * temperror for a DNS failure, policy for a weak key). A key that is fine leaves the `fail`.
 */
export async function checkKeyBeforeBodyHash(result: DKIMResult, resolver: DnsResolveFunction): Promise<void> {
  if (result.status.result !== 'fail' || result.bodyHash === result.bodyHashExpecting || !result.selector || !result.signingDomain) {
    return;
  }
  const hashAlgo = String(result.algo ?? '').split('-')[1];
  try {
    await getPublicKey('DKIM', `${result.selector}._domainkey.${result.signingDomain}`, MIN_RSA_KEY_BITS, resolver, { strict: true, hashAlgo });
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (KEY_ERROR_COMMENTS.has(code)) {
      result.status.result = 'neutral';
      result.status.comment = KEY_ERROR_COMMENTS.get(code);
    } else if (code === 'ESHORTKEY') {
      result.status.result = 'policy';
      result.status.policy = { ...result.status.policy, 'dkim-rules': 'weak-key' };
      result.status.comment = 'weak key';
    } else {
      result.status.result = 'temperror';
      result.status.comment = `DNS failure: ${code || (err as Error).message}`;
    }
  }
}

/**
 * RFC 8301 3.1: "Verifiers MUST NOT consider signatures using the SHA-1 hash algorithm valid";
 * 3.2: RSA keys under 1024 bits "MUST NOT be considered valid". Strict mode already reports these as
 * `policy`; this keeps the rule true whatever path produced the result.
 */
export function enforceRfc8301(result: DKIMResult): void {
  if (result.status.result !== 'pass') {
    return;
  }
  const algo = String(result.algo ?? '').toLowerCase();
  if (algo === 'rsa-sha1') {
    result.status.result = 'policy';
    result.status.policy = { ...result.status.policy, 'dkim-rules': 'weak-algorithm' };
    result.status.comment = 'rsa-sha1 is not acceptable (RFC 8301 3.1)';
  } else if (algo.startsWith('rsa-') && typeof result.modulusLength === 'number' && result.modulusLength < MIN_RSA_KEY_BITS) {
    result.status.result = 'policy';
    result.status.policy = { ...result.status.policy, 'dkim-rules': 'weak-key' };
    result.status.comment = `RSA key of ${result.modulusLength} bits is too short (RFC 8301 3.2)`;
  }
}

/**
 * Wraps a resolver so DKIM key records (TXT at `<selector>._domainkey.<domain>`) whose p= holds a
 * bare PKCS#1 RSAPublicKey are answered with the same key as SubjectPublicKeyInfo, the form mailauth
 * parses. Every other answer passes through unchanged.
 */
export function withPkcs1KeySupport(resolver: DnsResolveFunction): DnsResolveFunction {
  if (WRAPPED.has(resolver)) {
    return resolver;
  }
  // one wrapper per resolver, so mailauth's ARC step can reuse the DKIM step's key lookups
  let wrapped = WRAPPERS.get(resolver);
  if (wrapped) {
    return wrapped;
  }
  wrapped = async (name, rrtype) => {
    const answer = await resolver(name, rrtype);
    if (String(rrtype).toUpperCase() !== 'TXT' || !/\._domainkey\./i.test(String(name))) {
      return answer;
    }
    return answer.map((record) => {
      const text = Array.isArray(record) ? record.join('') : String(record);
      const converted = convertPkcs1KeyRecord(text);
      return converted === null ? record : [converted];
    });
  };
  WRAPPERS.set(resolver, wrapped);
  WRAPPED.add(wrapped);
  return wrapped;
}

const WRAPPERS = new WeakMap<DnsResolveFunction, DnsResolveFunction>();
const WRAPPED = new WeakSet<DnsResolveFunction>();

/** Distinct key records whose conversion {@link convertPkcs1KeyRecord} remembers. */
export const PKCS1_MEMO_ENTRIES = 1000;
const pkcs1Memo = new Map<string, string | null>();

/** Records in the conversion memo (tests). */
export const pkcs1MemoSize = (): number => pkcs1Memo.size;

/**
 * Returns the key record with p= rewritten to SubjectPublicKeyInfo, or null when nothing needs converting.
 * A pure function of the record's text, remembered per text (bounded, oldest first out): the DNS cache hands the same
 * record to every message signed with that key, and parsing the key to tell its form cost 3 % of the journal ingest's
 * CPU (issue 20, tools/bench/README.md "Node CPU of a scan").
 */
export function convertPkcs1KeyRecord(record: string): string | null {
  let converted = pkcs1Memo.get(record);
  if (converted === undefined) {
    converted = convertPkcs1KeyRecordUncached(record);
    if (pkcs1Memo.size >= PKCS1_MEMO_ENTRIES) {
      pkcs1Memo.delete(pkcs1Memo.keys().next().value as string);
    }
    pkcs1Memo.set(record, converted);
  }
  return converted;
}

function convertPkcs1KeyRecordUncached(record: string): string | null {
  const match = /(^|;)(\s*p\s*=\s*)([A-Za-z0-9+/=\s]+?)(\s*)(?=;|$)/.exec(record);
  if (!match) {
    return null;
  }
  const der = Buffer.from(match[3].replace(/\s+/g, ''), 'base64');
  if (!der.length || der.length === 32) {
    return null; // revoked key, or a raw ed25519 key (RFC 8463)
  }
  try {
    createPublicKey({ key: der, format: 'der', type: 'spki' });
    return null; // already SubjectPublicKeyInfo
  } catch {
    // not SPKI: try PKCS#1 below
  }
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    const spki = key.export({ format: 'der', type: 'spki' }).toString('base64');
    const start = match.index + match[1].length + match[2].length;
    return record.slice(0, start) + spki + record.slice(start + match[3].length);
  } catch {
    return null; // neither form: mailauth reports the key as unusable
  }
}
