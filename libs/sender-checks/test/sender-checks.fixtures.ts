import { createHash, createSign, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_EMAIL_SECURITY_SETTINGS, type SenderCheckSettings } from '@mailwarden/policy';
import type { DnsZone, SenderCheckInput, SenderCheckPolicySettings } from '../src';
import { dkimSign, sealMessage } from '../src/mailauth.adapter';

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

/** RFC 6376 3.4.2 relaxed header canonicalization of one field (`Name: value`, possibly folded). */
function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const value = field.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${field.slice(0, colon).trim().toLowerCase()}:${value}`;
}

/** RFC 6376 3.4.4 relaxed body canonicalization. */
function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}

function splitMessage(message: Buffer): { fields: string[]; body: string } {
  const text = message.toString('binary');
  const end = text.indexOf('\r\n\r\n');
  const fields = text.slice(0, end).split(/\r\n(?![ \t])/);
  return { fields, body: text.slice(end + 4) };
}

/**
 * A signature field made by hand with relaxed canonicalization and exactly the tags given, so tests can write what
 * mailauth's signer never does: a DKIM-Signature without v=, an ARC-Message-Signature without c= or whose h= leaves
 * out From. `signedFields` become h=; bh= and b= are computed. Returns the field, to be put on top of the message.
 */
export function signByHand(message: Buffer, options: { field: 'DKIM-Signature' | 'ARC-Message-Signature'; tags: string; signedFields: string[]; key: TestKey }): string {
  const { fields, body } = splitMessage(message);
  const bodyHash = createHash('sha256').update(relaxedBody(body), 'binary').digest('base64');
  const unsigned = `${options.field}: ${options.tags}; h=${options.signedFields.join(':')}; bh=${bodyHash}; b=`;
  // RFC 6376 5.4.2: each name in h= takes the next instance from the bottom up.
  const remaining = [...fields];
  const hashed = options.signedFields.map((name) => {
    const index = remaining.map((field) => field.split(':')[0]!.trim().toLowerCase()).lastIndexOf(name.toLowerCase());
    return index < 0 ? '' : `${relaxedHeader(remaining.splice(index, 1)[0]!)}\r\n`;
  });
  const signature = createSign('sha256').update(hashed.join('') + relaxedHeader(unsigned), 'binary').sign(options.key.privateKeyPem, 'base64');
  return unsigned + signature;
}

/** An ARC-Seal (RFC 8617 4.1.3) by hand over the given ARC fields of instance 1 (relaxed, no body). */
export function sealByHand(arcFields: string[], options: { tags: string; key: TestKey }): string {
  const unsigned = `ARC-Seal: ${options.tags}; b=`;
  const input = arcFields.map((field) => `${relaxedHeader(field)}\r\n`).join('') + relaxedHeader(unsigned);
  return unsigned + createSign('sha256').update(input, 'binary').sign(options.key.privateKeyPem, 'base64');
}
