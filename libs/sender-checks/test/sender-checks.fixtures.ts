import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { sealMessage } from 'mailauth/lib/arc';
import { DEFAULT_EMAIL_SECURITY_SETTINGS, type SenderCheckSettings } from '@mailwarden/policy';
import type { DnsZone, SenderCheckInput, SenderCheckPolicySettings } from '../src';

/**
 * Test fixtures for the sender checks: `.eml` messages and `*.dns.json` zones in ./fixtures, plus
 * DKIM and ARC signatures made at test time with mailauth's own signers and node:crypto keys (the
 * key records are added to the zone), so nothing secret or time-bound is committed.
 */

const FIXTURES = path.join(__dirname, 'fixtures');

export function loadMessage(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

export function loadZone(name: string): DnsZone {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as DnsZone;
}

/** A copy of the zone with owner names added or replaced. */
export function withRecords(zone: DnsZone, extra: DnsZone): DnsZone {
  return { ...structuredClone(zone), ...extra };
}

export interface TestKey {
  privateKeyPem: string;
  publicKey: KeyObject;
}

export function rsaKey(bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

/** DKIM key record (RFC 6376 3.6.1): p= as SubjectPublicKeyInfo, or as a bare PKCS#1 RSAPublicKey. */
export function keyRecord(key: TestKey, form: 'spki' | 'pkcs1' = 'spki'): string {
  return `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: form, format: 'der' }).toString('base64')}`;
}

export async function signDkim(
  message: Buffer,
  options: { domain: string; selector: string; key: TestKey; algorithm?: 'rsa-sha256' | 'rsa-sha1' },
): Promise<Buffer> {
  const signature = { signingDomain: options.domain, selector: options.selector, privateKey: options.key.privateKeyPem };
  const signed = await dkimSign(message, {
    ...signature,
    algorithm: options.algorithm ?? 'rsa-sha256',
    canonicalization: 'relaxed/relaxed',
    signatureData: [signature],
  });
  if (!signed.signatures) {
    throw new Error(`signing failed: ${JSON.stringify(signed.errors)}`);
  }
  return Buffer.concat([Buffer.from(signed.signatures), message]);
}

/** Adds an ARC set (RFC 8617) sealed by `domain`, recording the given Authentication-Results payload. */
export async function arcSeal(message: Buffer, options: { domain: string; selector: string; key: TestKey; authResults: string }): Promise<Buffer> {
  const headers = await sealMessage(message, {
    signingDomain: options.domain,
    selector: options.selector,
    privateKey: options.key.privateKeyPem,
    cv: 'none',
    authResults: options.authResults,
  });
  if (!headers.length) {
    throw new Error('ARC sealing produced no headers');
  }
  return Buffer.concat([headers, message]);
}

/** Replaces the first occurrence of `from` in the message (to break a signature the way a list footer does). */
export function alter(message: Buffer, from: string, to: string): Buffer {
  const text = message.toString('binary');
  if (!text.includes(from)) {
    throw new Error(`"${from}" is not in the message`);
  }
  return Buffer.from(text.replace(from, to), 'binary');
}

export function settings(overrides: Partial<SenderCheckSettings> = {}, allowList = { domains: [] as string[], addresses: [] as string[] }): SenderCheckPolicySettings {
  return {
    senderChecks: { ...structuredClone(DEFAULT_EMAIL_SECURITY_SETTINGS.senderChecks), ...overrides },
    allowList,
  };
}

/** A message from alice@sender.example's own server to bob@customer.example (all checks pass once signed). */
export function inbound(message: Buffer, overrides: Partial<SenderCheckInput> = {}): SenderCheckInput {
  return {
    message,
    clientIp: '192.0.2.10',
    helo: 'mail.sender.example',
    envelopeSender: 'alice@sender.example',
    envelopeRecipients: ['bob@customer.example'],
    accountDomains: ['customer.example', 'customer-eu.example'],
    settings: settings(),
    ...overrides,
  };
}
