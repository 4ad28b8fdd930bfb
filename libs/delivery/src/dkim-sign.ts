import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { prependHeaders } from './header-section';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

/** One domain's DKIM signing key. */
export interface DkimSigningKey {
  domain: string;
  selector: string;
  /** PEM (PKCS#8) private key. */
  privateKey: string;
}

export interface GeneratedDkimKey {
  algorithm: DkimAlgorithm;
  /** PEM (PKCS#8) private key: store it encrypted. */
  privateKey: string;
  /** The TXT record value to publish at `<selector>._domainkey.<domain>` (RFC 6376 3.6.1). */
  dnsRecord: string;
}

/** A new key pair: RSA-2048 (RFC 8301) or Ed25519 (RFC 8463), with the DNS record that publishes its public half. */
export function generateDkimKey(algorithm: DkimAlgorithm): GeneratedDkimKey {
  const pair = algorithm === 'rsa-sha256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { algorithm, privateKey, dnsRecord: dkimDnsRecord(privateKey) };
}

/**
 * The TXT record of a private key's public half: `v=DKIM1; k=rsa; p=<SPKI base64>` for RSA (RFC 6376 3.6.1),
 * `v=DKIM1; k=ed25519; p=<32 raw key bytes, base64>` for Ed25519 (RFC 8463 4.2).
 */
export function dkimDnsRecord(privateKey: string): string {
  const publicKey = createPublicKey(privateKey);
  if (publicKey.asymmetricKeyType === 'ed25519') {
    // The SPKI DER of an Ed25519 key is a 12-byte prefix followed by the 32 raw key bytes.
    return `v=DKIM1; k=ed25519; p=${publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}

/** The owner name of a key's TXT record (RFC 6376 3.6.2.1). */
export const dkimRecordName = (selector: string, domain: string) => `${selector}._domainkey.${domain}`;

/**
 * Signs a copy with DKIM (RFC 6376), relaxed/relaxed, algorithm by key type. The signature goes on top of the
 * header section; signing refuses what would not verify (no From, a key the wrong size): then `error` says why and
 * the copy is returned unsigned rather than held back.
 */
export async function dkimSignCopy(copy: Buffer, key: DkimSigningKey, signTime?: Date): Promise<{ raw: Buffer; error: string | null }> {
  const result = await dkimSign(copy, {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey,
    canonicalization: 'relaxed/relaxed',
    signTime,
    strict: true,
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  });
  if (!result.signatures) {
    return { raw: copy, error: result.errors.map((entry) => (entry as { err?: Error }).err?.message ?? String(entry)).join('; ') || 'not signed' };
  }
  return { raw: prependHeaders(copy, result.signatures.split(/\r?\n(?![ \t])/).filter((line) => line !== '')), error: null };
}

/** The longest owner name DNS allows (RFC 1035 2.3.4), which `<selector>._domainkey.<domain>` must fit. */
const MAX_DNS_NAME = 253;
const SELECTOR_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why a selector is not usable, or null when it is. RFC 6376 3.1: `selector = sub-domain *( "." sub-domain )`, each
 * sub-domain a letter-digit-hyphen label (RFC 5321 4.1.2) of at most 63 characters that neither starts nor ends
 * with a hyphen; and the record's owner name `<selector>._domainkey.<domain>` must be a valid DNS name. Selectors
 * are compared lower-case (DNS names are case-insensitive).
 */
export function dkimSelectorProblem(selector: string, domain: string): string | null {
  if (selector.length === 0) {
    return 'the selector is empty';
  }
  const labels = selector.split('.');
  const bad = labels.find((label) => !SELECTOR_LABEL.test(label));
  if (bad !== undefined) {
    return `"${bad.slice(0, 70)}" is not a selector label (RFC 6376 3.1: letters, digits and inner hyphens, 1 to 63 characters)`;
  }
  if (dkimRecordName(selector, domain).length > MAX_DNS_NAME) {
    return `${selector.length} characters is too long: <selector>._domainkey.${domain} would exceed ${MAX_DNS_NAME} characters`;
  }
  return null;
}

/** The tags of a DKIM key record (RFC 6376 3.2 tag-list; 3.6.1 key tags), names lower-case, whitespace removed. */
export function parseDkimRecord(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) {
      tags.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).replace(/\s+/g, ''));
    }
  }
  return tags;
}

/**
 * Whether the TXT records published at a key's name publish exactly this key: at least one DKIM key record, and
 * every DKIM key record there (with `p=`, or `v=DKIM1`) has the same key type (`k=`, default rsa) and public key
 * (`p=`) as `expected`, with `v=DKIM1` if `v=` is given (RFC 6376 3.6.1). A second, different key at the same name
 * (a leftover, or someone else's) does not match: verifiers could pick either. An empty `p=` (revoked) never matches.
 */
export function dkimRecordPublishes(published: readonly string[], expected: string): boolean {
  const want = parseDkimRecord(expected);
  const keyRecords = published.map(parseDkimRecord).filter((tags) => tags.has('p') || tags.get('v') === 'DKIM1');
  return (
    keyRecords.length > 0 &&
    keyRecords.every(
      (tags) =>
        (!tags.has('v') || tags.get('v') === 'DKIM1') &&
        (tags.get('k') ?? 'rsa').toLowerCase() === (want.get('k') ?? 'rsa').toLowerCase() &&
        !!tags.get('p') &&
        tags.get('p') === want.get('p'),
    )
  );
}

/**
 * The additional data a stored DKIM private key's ciphertext is bound to (libs/mimecast CredentialsCipher with
 * SECRETS_KEY): the key's own id, so a ciphertext copied into another key's row (another tenant's) does not decrypt.
 */
export const dkimKeyCipherContext = (keyId: string) => `dkim-key:${keyId}`;
