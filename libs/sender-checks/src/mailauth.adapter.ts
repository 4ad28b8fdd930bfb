import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { arc, sealMessage } from 'mailauth/lib/arc';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { dkimVerify as mailauthDkimVerify } from 'mailauth/lib/dkim/verify';
import { evaluateDmarc } from 'mailauth/lib/dmarc';
import { spf, type SPFResult } from 'mailauth/lib/spf';
import { FAST_STREAM_MAILAUTH_VERSION, withFastStream, type MessageParserInternals, type RelaxedHashInternals } from './dkim-fast-stream';

/**
 * The one place this lib reaches into mailauth below its public entry point (`mailauth`). The checks need the
 * per-protocol verifiers (`mailauth/lib/{dkim/verify,spf,arc,dmarc}`, typed by mailauth's own .d.ts files) and three
 * helpers of `mailauth/lib/tools`, which mailauth ships without types: they are declared here and checked when this
 * module loads, so a mailauth upgrade that moves or changes them fails at startup (and in mailauth.adapter.spec.ts)
 * instead of mid-check. Nothing else in libs/sender-checks imports `mailauth/lib/...` (the spec enforces it).
 */

/** What Mailwarden uses of `mailauth/lib/tools` (mailauth 7). */
export interface MailauthTools {
  /** Writes a Buffer into a Writable in 64 KB chunks and resolves when it finished (what `dkimVerify` feeds its verifier with). */
  writeToStream(stream: NodeJS.WritableStream, input: Buffer | string): Promise<unknown>;
  /** The A-label form of a domain name, as getPublicKey queries it (RFC 8616 3). */
  toALabel(name: string): string;
  /** Key-record error codes (`ENOKEY`, `EINVALIDVER`, ...) to the comment mailauth writes for them. */
  KEY_ERROR_COMMENTS: Map<string, string>;
  /** Relaxed (Organizational Domain by the Public Suffix List) or strict alignment of domainList with fromDomain. */
  getAlignment(fromDomain: string, domainList: string[], strict?: boolean): { domain: string } | false;
  /** Fetches and parses a DKIM / ARC key record (with the system's DNS when `resolver` is undefined); throws with `code` (a KEY_ERROR_COMMENTS key, `ESHORTKEY`, or a DNS code). */
  getPublicKey(
    type: 'DKIM' | 'AS' | 'AMS',
    name: string,
    minBitLength: number,
    resolver: ((name: string, rrtype: string) => Promise<unknown>) | undefined,
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
    typeof tools.writeToStream === 'function' ? null : 'writeToStream is not a function',
    typeof tools.toALabel === 'function' ? null : 'toALabel is not a function',
  ].filter((problem): problem is string => problem !== null);
  if (problems.length) {
    throw new Error(`mailauth upgrade: ${MAILAUTH_TOOLS_MODULE} changed (${problems.join('; ')}); update libs/sender-checks/src/mailauth.adapter.ts`);
  }
  return tools as MailauthTools;
}

export const { KEY_ERROR_COMMENTS, getAlignment, getPublicKey, writeToStream, toALabel } = loadMailauthTools();

type PublicKeyLookup = ReturnType<MailauthTools['getPublicKey']>;
type KeyResolver = Parameters<MailauthTools['getPublicKey']>[3];

/** mailauth's per-message key cache (`tools.createKeyCache`): one getPublicKey promise per question, `resolver` kept for ARC's check. */
export interface MailauthKeyCache {
  resolver: KeyResolver;
  get(type: 'DKIM' | 'AS' | 'AMS', name: string, minBitLength: number, options?: { strict?: boolean; hashAlgo?: string }): PublicKeyLookup;
}

/** Parsed key records remembered across messages, at most this many (oldest first out). */
export const PARSED_KEY_MEMO_ENTRIES = 1000;
const parsedKeys = new Map<string, Awaited<PublicKeyLookup>>();

/** Parsed keys remembered (tests). */
export const parsedKeyMemoSize = (): number => parsedKeys.size;

/**
 * A drop-in for mailauth's per-message key cache whose getPublicKey results are also remembered across messages, by
 * the question and the exact answer the resolver gave: mailauth parses the key record (`crypto.createPublicKey`, PEM
 * export) for every message, ~140 µs of CPU per DKIM signature, 10 % of a scan (issue 20, tools/bench/README.md "Node
 * CPU of a scan"). The resolver is still asked for every message (the DNS cache and its TTLs decide what the record
 * is), so a changed or revoked key is seen as soon as the DNS answer changes; a failed lookup or parse is never
 * remembered. The same question within a message shares one promise, as in mailauth (its key leaves out `type`).
 */
export function createKeyMemoCache(resolver: KeyResolver): MailauthKeyCache {
  const perMessage = new Map<string, PublicKeyLookup>();
  return {
    resolver,
    get(type, name, minBitLength, options = {}) {
      const question = [!!options.strict, minBitLength || '', options.hashAlgo || '', name].join(':');
      let lookup = perMessage.get(question);
      if (!lookup) {
        // without a resolver getPublicKey asks the system's DNS itself: nothing to key a memo on
        lookup = typeof resolver === 'function' ? rememberedKey(resolver, type, name, minBitLength, options, question) : getPublicKey(type, name, minBitLength, resolver, options);
        // as mailauth's: a prefetched lookup may fail before anything waits for it; every awaiting caller still gets the error
        lookup.catch(() => false);
        perMessage.set(question, lookup);
      }
      return lookup;
    },
  };
}

async function rememberedKey(
  resolver: NonNullable<KeyResolver>,
  type: 'DKIM' | 'AS' | 'AMS',
  name: string,
  minBitLength: number,
  options: { strict?: boolean; hashAlgo?: string },
  question: string,
): Promise<Awaited<PublicKeyLookup>> {
  // getPublicKey's own first step (same name, same type); a DNS error rejects as it would from inside getPublicKey
  const answer = await resolver(toALabel(name), 'TXT');
  const memoKey = `${type}:${question}\n${JSON.stringify(answer)}`;
  const known = parsedKeys.get(memoKey);
  if (known) {
    return known;
  }
  const parsed = await getPublicKey(type, name, minBitLength, async () => answer, options);
  parsed.publicKey = keyObjectOf(parsed.publicKey);
  Object.freeze(parsed);
  for (const value of Object.values(parsed)) {
    if (Array.isArray(value)) {
      Object.freeze(value);
    }
  }
  if (parsedKeys.size >= PARSED_KEY_MEMO_ENTRIES) {
    parsedKeys.delete(parsedKeys.keys().next().value as string);
  }
  parsedKeys.set(memoKey, parsed);
  return parsed;
}

/**
 * The parsed key as a KeyObject that still reads as mailauth's PEM: mailauth hands `publicKey` to `crypto.verify`, which
 * parses a PEM string again for every signature (~25 µs of an RSA-2048 verify's ~45), and writes `publicKey.toString()`
 * into the result, which stays the PEM.
 */
function keyObjectOf(publicKey: unknown): unknown {
  if (typeof publicKey !== 'string') {
    return publicKey;
  }
  let key: KeyObject;
  try {
    key = createPublicKey(publicKey);
  } catch {
    return publicKey; // mailauth's own export: not expected to fail; crypto.verify then reports it as mailauth would
  }
  Object.defineProperty(key, 'toString', { value: () => publicKey, enumerable: false });
  return key;
}

interface DkimVerifierInternals extends NodeJS.WritableStream, MessageParserInternals {
  keyCache: MailauthKeyCache;
  arc: object | false;
  headers?: unknown;
  seal?: unknown;
  headerFrom: string[];
  fromFields: number;
  envelopeFrom: string | false;
  results: unknown[];
}

const { DkimVerifier } = createRequire(__filename)('mailauth/lib/dkim/dkim-verifier') as {
  DkimVerifier: new (options: Parameters<typeof mailauthDkimVerify>[1]) => DkimVerifierInternals;
};
if (typeof DkimVerifier !== 'function') {
  throw new Error('mailauth upgrade: mailauth/lib/dkim/dkim-verifier no longer exports DkimVerifier; update libs/sender-checks/src/mailauth.adapter.ts');
}

const { RelaxedHash } = createRequire(__filename)('mailauth/lib/dkim/body/relaxed') as {
  RelaxedHash: new (algorithm?: string, maxBodyLength?: number | string) => RelaxedHashInternals;
};

/** The installed mailauth's version (package.json pins it). */
export const MAILAUTH_VERSION: string = (
  JSON.parse(readFileSync(path.join(path.dirname(createRequire(__filename).resolve('mailauth')), '..', 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * Why the DKIM stream runs on mailauth's own byte loops, or null when it runs on dkim-fast-stream.ts's native searches:
 * those replace methods of mailauth's MessageParser and RelaxedHash and were compared with mailauth 7.1.0's; another
 * version keeps mailauth's (and mailauth.adapter.spec.ts fails until they are compared again).
 */
export const DKIM_FAST_STREAM_REFUSED: string | null =
  MAILAUTH_VERSION !== FAST_STREAM_MAILAUTH_VERSION
    ? `mailauth ${MAILAUTH_VERSION} is not ${FAST_STREAM_MAILAUTH_VERSION}`
    : ['ensureLinebreaks', 'processChunk', 'emitHeaders', 'nextChunk', 'addBodyHash', 'writeAsync', 'finish'].find((name) => typeof (DkimVerifier.prototype as unknown as Record<string, unknown>)[name] !== 'function') ??
      ['update', 'fixLineBuffer', '_pushBodyHash'].find((name) => typeof (RelaxedHash?.prototype as unknown as Record<string, unknown> | undefined)?.[name] !== 'function') ??
      null;

/** writeToStream's chunk size. */
const WRITE_CHUNK_BYTES = 64 * 1024;

const Verifier = DKIM_FAST_STREAM_REFUSED === null ? withFastStream(DkimVerifier, RelaxedHash) : DkimVerifier;

/**
 * mailauth's `dkimVerify` (mailauth/lib/dkim/verify.js, line for line: the verifier, the result and its hidden
 * `headers` / `arc` / `seal`), with the verifier's key cache, which the ARC validation reuses, replaced by
 * {@link createKeyMemoCache}, and its per-byte loops by dkim-fast-stream.ts's native searches, the message handed to
 * the parser's own chunk and end handlers directly (same output; unless {@link DKIM_FAST_STREAM_REFUSED}). Only a
 * Buffer or string input (what the checks pass).
 */
export async function dkimVerify(input: Buffer | string, options: Parameters<typeof mailauthDkimVerify>[1] = {}): ReturnType<typeof mailauthDkimVerify> {
  const verifier = new Verifier(options);
  verifier.keyCache = createKeyMemoCache(verifier.keyCache.resolver);
  if (verifier.arc) {
    Object.defineProperty(verifier.arc, 'keyCache', { value: verifier.keyCache, enumerable: false, configurable: true, writable: true });
  }
  if (DKIM_FAST_STREAM_REFUSED === null) {
    // what writeToStream's Writable runs (`_write` per 64 KB, then `_final`), without a setImmediate and the stream's
    // bookkeeping per chunk: 50–70 µs of a scan on the bench's 20 KB messages
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    for (let pos = 0; pos < bytes.length; pos += WRITE_CHUNK_BYTES) {
      await verifier.writeAsync(bytes.subarray(pos, pos + WRITE_CHUNK_BYTES));
    }
    await verifier.finish();
  } else {
    await writeToStream(verifier, input);
  }
  const result = { headerFrom: verifier.headerFrom, fromFields: verifier.fromFields, envelopeFrom: verifier.envelopeFrom, results: verifier.results };
  for (const property of ['headers', 'arc', 'seal'] as const) {
    if (verifier[property]) {
      Object.defineProperty(result, property, { enumerable: false, configurable: false, writable: false, value: verifier[property] });
    }
  }
  return result as Awaited<ReturnType<typeof mailauthDkimVerify>>;
}

// The typed verifiers and signers (test fixtures sign with the latter), re-exported so no other file names a mailauth/lib path;
// mailauth's own dkimVerify for the spec that compares {@link dkimVerify} with it.
export { arc, dkimSign, DkimVerifier, evaluateDmarc, mailauthDkimVerify, RelaxedHash, sealMessage, spf, type SPFResult };
