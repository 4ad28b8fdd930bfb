import { createRequire } from 'node:module';
import { arc, sealMessage } from 'mailauth/lib/arc';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { evaluateDmarc } from 'mailauth/lib/dmarc';
import { spf, type SPFResult } from 'mailauth/lib/spf';

/**
 * The one place this lib reaches into mailauth below its public entry point (`mailauth`). The checks need the
 * per-protocol verifiers (`mailauth/lib/{dkim/verify,spf,arc,dmarc}`, typed by mailauth's own .d.ts files) and three
 * helpers of `mailauth/lib/tools`, which mailauth ships without types: they are declared here and checked when this
 * module loads, so a mailauth upgrade that moves or changes them fails at startup (and in mailauth.adapter.spec.ts)
 * instead of mid-check. Nothing else in libs/sender-checks imports `mailauth/lib/...` (the spec enforces it).
 */

/** What Mailwarden uses of `mailauth/lib/tools` (mailauth 7). */
export interface MailauthTools {
  /** Key-record error codes (`ENOKEY`, `EINVALIDVER`, ...) to the comment mailauth writes for them. */
  KEY_ERROR_COMMENTS: Map<string, string>;
  /** Relaxed (Organizational Domain by the Public Suffix List) or strict alignment of domainList with fromDomain. */
  getAlignment(fromDomain: string, domainList: string[], strict?: boolean): { domain: string } | false;
  /** Fetches and parses a DKIM / ARC key record; throws with `code` (a KEY_ERROR_COMMENTS key, `ESHORTKEY`, or a DNS code). */
  getPublicKey(
    type: 'DKIM' | 'AS' | 'AMS',
    name: string,
    minBitLength: number,
    resolver: (name: string, rrtype: string) => Promise<unknown>,
    options?: { strict?: boolean; hashAlgo?: string },
  ): Promise<{ publicKey: unknown; rr: string; modulusLength?: number }>;
}

export const MAILAUTH_TOOLS_MODULE = 'mailauth/lib/tools';

/** Loads `mailauth/lib/tools` and checks it still has the members {@link MailauthTools} declares. */
export function loadMailauthTools(load: (id: string) => unknown = createRequire(__filename)): MailauthTools {
  let tools: Partial<Record<keyof MailauthTools, unknown>>;
  try {
    tools = load(MAILAUTH_TOOLS_MODULE) as typeof tools;
  } catch (err) {
    throw new Error(`mailauth upgrade: ${MAILAUTH_TOOLS_MODULE} cannot be loaded (${(err as Error).message}); update libs/sender-checks/src/mailauth.adapter.ts`);
  }
  const problems = [
    tools.KEY_ERROR_COMMENTS instanceof Map ? null : 'KEY_ERROR_COMMENTS is not a Map',
    typeof tools.getAlignment === 'function' ? null : 'getAlignment is not a function',
    typeof tools.getPublicKey === 'function' ? null : 'getPublicKey is not a function',
  ].filter((problem): problem is string => problem !== null);
  if (problems.length) {
    throw new Error(`mailauth upgrade: ${MAILAUTH_TOOLS_MODULE} changed (${problems.join('; ')}); update libs/sender-checks/src/mailauth.adapter.ts`);
  }
  return tools as MailauthTools;
}

export const { KEY_ERROR_COMMENTS, getAlignment, getPublicKey } = loadMailauthTools();

// The typed verifiers and signers (test fixtures sign with the latter), re-exported so no other file names a mailauth/lib path.
export { arc, dkimSign, dkimVerify, evaluateDmarc, sealMessage, spf, type SPFResult };
