import { createSeal } from 'mailauth/lib/arc';
import { NEGATIVE_DNS_CODES, verifyArc, verifyDkim, type DnsResolveFunction } from '@mailwarden/sender-checks';
import { prependHeaders } from './header-section';
import { authenticationResultsParts, type StoredCheck } from './trace-headers';

/** The deployment's ARC sealing identity (ARC_SEAL_DOMAIN, ARC_SEAL_SELECTOR, ARC_SEAL_KEY_FILE). */
export interface ArcSealingKey {
  domain: string;
  selector: string;
  /** PEM private key, RSA or Ed25519: the algorithm follows the key type. */
  privateKey: string;
}

/** RFC 8617 4.1.4 chain validation status, as written into cv=. `temperror`: DNS did not answer, nothing to claim. */
export type ArcChainStatus = 'none' | 'pass' | 'fail' | 'temperror';

/**
 * RFC 8617 5.2: validates the ARC chain of a message as it reached us (before we changed anything), so the seal we
 * add says what we saw. Uses the same strict validation as the sender checks.
 */
export async function arcChainStatus(raw: Buffer, resolver: DnsResolveFunction): Promise<ArcChainStatus> {
  // mailauth reports a chain whose key lookups timed out as `fail`; sealing that as cv=fail would end the chain for
  // every later hop, so a lookup that failed without an answer (not NXDOMAIN / NODATA) makes it a temperror.
  let dnsFailed = false;
  const watched: DnsResolveFunction = async (name, rrtype) => {
    try {
      return await resolver(name, rrtype);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      dnsFailed ||= !(typeof code === 'string' && NEGATIVE_DNS_CODES.has(code));
      throw error;
    }
  };
  const dkim = await verifyDkim(raw, { resolver: watched });
  const result = await verifyArc(dkim, { resolver: watched });
  const status = String(result.status.result).toLowerCase();
  if (status === 'pass' || status === 'none') {
    return status;
  }
  return status === 'temperror' || dnsFailed ? 'temperror' : 'fail';
}

export interface SealResult {
  raw: Buffer;
  /** ARC instance added; null when the copy was not sealed. */
  instance: number | null;
  /** Why no set was added (mailauth's refusal), when none was. */
  error: string | null;
}

/**
 * Adds our ARC set (RFC 8617 5.1) on top of a copy that is ready to go (subject tagged, trace fields added): the
 * ARC-Authentication-Results carry the results we computed (the sender checks, as in our Authentication-Results,
 * plus `arc=` of the chain we received) under our authserv-id; the ARC-Message-Signature signs the copy as it
 * leaves; the ARC-Seal signs the chain with `cv=`. mailauth does the signing; a chain whose newest seal says
 * cv=fail, or that already has 50 sets, is not sealed again (RFC 8617 5.1 step 2, 4.2.1) and `error` says so.
 */
export async function sealCopy(
  copy: Buffer,
  key: ArcSealingKey,
  input: {
    authservId: string;
    checks: readonly StoredCheck[] | null;
    chain: Exclude<ArcChainStatus, 'temperror'>;
    signTime?: Date;
    /** Header fields the ARC-Message-Signature signs; mailauth's default list (From, To, Subject, ...) when absent. */
    headerList?: string;
    /** The ARC-Authentication-Results payload after `i=N;`, given whole (the conformance suite's); built from `checks` when absent. */
    authResults?: string;
  },
): Promise<SealResult> {
  const parts = [...authenticationResultsParts(input.checks ?? []), `arc=${input.chain}`];
  const { headers, errors } = await createSeal(copy, {
    seal: {
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKey,
      authResults: input.authResults ?? `${input.authservId};\r\n ${parts.join(';\r\n ')}`,
      cv: input.chain,
      signTime: input.signTime,
      headerList: input.headerList,
      strict: true,
    },
  } as Parameters<typeof createSeal>[1]);
  if (headers.length === 0) {
    return { raw: copy, instance: null, error: errors.map((entry) => (entry as { err?: Error }).err?.message ?? String(entry)).join('; ') || 'not sealed' };
  }
  const instance = Number(/\bi=(\d+)/.exec(headers[0]!)?.[1] ?? 0) || null;
  return { raw: prependHeaders(copy, headers.map((header) => header.replace(/\r?\n$/, ''))), instance, error: null };
}
