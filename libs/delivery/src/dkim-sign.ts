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
