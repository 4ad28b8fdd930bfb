import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import type { Zone } from '@mailwarden/testing';
import { toDataPayload, type SmtpJob } from './smtp-client';

/** The sending organisation of every benchmark message; the bench DNS serves its SPF, DMARC and DKIM key. */
export const SENDER_DOMAIN = 'sender.bench.test';
export const SENDER = `alice@${SENDER_DOMAIN}`;
export const DKIM_SELECTOR = 'bench';
/** The client the journaling provider saw (a public documentation address, so SPF is evaluated against it). */
export const ORIGIN_IP = '203.0.113.7';

export interface SigningKey {
  privateKeyPem: string;
  /** base64 SubjectPublicKeyInfo, the p= of the DKIM record. */
  publicKeyBase64: string;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/**
 * The bench zone: SPF passing for the gateway client (127.0.0.1) and for the journaled origin hop, DMARC p=none,
 * the DKIM key; everything else is NXDOMAIN.
 */
export function benchZone(key: SigningKey): Zone {
  return {
    [SENDER_DOMAIN]: {
      TXT: [`v=spf1 ip4:127.0.0.1 ip4:${ORIGIN_IP} -all`],
      A: ['127.0.0.1'],
      MX: [{ exchange: `mx.${SENDER_DOMAIN}`, priority: 10 }],
    },
    [`mx.${SENDER_DOMAIN}`]: { A: ['127.0.0.1'] },
    [`client.${SENDER_DOMAIN}`]: { A: ['127.0.0.1'] },
    [`_dmarc.${SENDER_DOMAIN}`]: { TXT: ['v=DMARC1; p=none'] },
    [`${DKIM_SELECTOR}._domainkey.${SENDER_DOMAIN}`]: { TXT: [`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`] },
  };
}

const FILLER = 'The quarterly figures are attached below; please review the numbers before the meeting on Thursday.';

function body(index: number, sizeBytes: number): string {
  const lines: string[] = [`Message ${index} of the Mailwarden benchmark.`];
  let length = lines[0]!.length + 2;
  for (let line = 0; length < sizeBytes; line++) {
    const text = `${line.toString(36).padStart(4, '0')} ${FILLER}`.slice(0, 76);
    lines.push(text);
    length += text.length + 2;
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * One original message of about `sizeBytes` (headers included), DKIM-signed (relaxed/relaxed, RSA 2048) by the
 * sender domain, with a unique Message-ID and the Received field of a Google edge (the journal's origin hop).
 */
export async function buildSignedOriginal(index: number, options: { runId: string; sizeBytes: number; recipient: string; key: SigningKey }): Promise<Buffer> {
  const headers = [
    `Received: from mail.${SENDER_DOMAIN} (mail.${SENDER_DOMAIN} [${ORIGIN_IP}]) by mx.google.com with ESMTPS id b${index}; ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Return-Path: <${SENDER}>`,
    `From: Alice Sender <${SENDER}>`,
    `To: ${options.recipient}`,
    `Subject: Quarterly figures ${options.runId} #${index}`,
    `Message-ID: <bench-${options.runId}-${index}@${SENDER_DOMAIN}>`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ].join('\r\n');
  const unsigned = `${headers}\r\n\r\n`;
  const raw = Buffer.from(unsigned + body(index, Math.max(options.sizeBytes - unsigned.length - 600, 64)), 'utf8');
  const signer = { signingDomain: SENDER_DOMAIN, selector: DKIM_SELECTOR, privateKey: options.key.privateKeyPem };
  const signed = await dkimSign(raw, { ...signer, canonicalization: 'relaxed/relaxed', signatureData: [signer] });
  if (signed.errors?.length) {
    throw new Error(`DKIM signing failed: ${JSON.stringify(signed.errors)}`);
  }
  return Buffer.concat([Buffer.from(signed.signatures), raw]);
}

/** A Google Workspace journal copy (X-Gm-Original-To naming the recipient, then the original unaltered). */
export function googleJournalCopy(recipient: string, original: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`X-Gm-Original-To: ${recipient}\r\n`), original]);
}

/** Signed originals for one run; built once (RSA signing is not free) and wrapped per scenario. */
export async function buildCorpus(count: number, options: { sizeBytes: number; recipient: string; key: SigningKey }): Promise<Buffer[]> {
  const runId = randomBytes(4).toString('hex');
  const originals: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    originals.push(await buildSignedOriginal(index, { ...options, runId }));
  }
  return originals;
}

/** Journal copies of the corpus for one journal address; `recipient` makes each phase's copies distinct (dedup key). */
export function journalJobs(originals: readonly Buffer[], journalAddress: string, recipient: string): SmtpJob[] {
  return originals.map((original) => ({ from: SENDER, to: [journalAddress], payload: toDataPayload(googleJournalCopy(recipient, original)) }));
}

/** The corpus sent straight to a gateway recipient. */
export function directJobs(originals: readonly Buffer[], recipient: string): SmtpJob[] {
  return originals.map((original) => ({ from: SENDER, to: [recipient], payload: toDataPayload(original) }));
}
