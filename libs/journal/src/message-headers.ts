/**
 * Header facts the ingest records for every stored message (From address, Subject, Message-ID), read
 * straight from the raw bytes: tolerant of folding (RFC 5322 2.2.3), 8-bit values (RFC 6532) and bare LF.
 */

import { parseAddressList } from './mime/address-list';
import { decodeEncodedWords } from './mime/encoded-words';
import { decodeHeaderText, getHeader, parseHeaderBlock, type HeaderBlock } from './mime/header-block';

export interface MessageHeaderSummary {
  /** First address of the header From, as written (case kept), or null. */
  from: string | null;
  /** Subject with RFC 2047 encoded-words decoded, outer whitespace trimmed, or null when absent. */
  subject: string | null;
  /** `<id>` form (see normalizeMessageId), or null when absent or empty. */
  messageId: string | null;
}

/**
 * RFC 5322 3.6.4 msg-id, reduced to one canonical `<left@right>` string: comments, whitespace and
 * anything after the first id are dropped; a value without brackets (seen from broken senders) is
 * bracketed. Case is kept: the left part is case-sensitive.
 */
export function normalizeMessageId(value: string | undefined): string | null {
  if (value === undefined) {
    return null;
  }
  const open = value.indexOf('<');
  if (open >= 0) {
    const close = value.indexOf('>', open);
    const id = (close >= 0 ? value.slice(open + 1, close) : value.slice(open + 1)).replace(/\s+/g, '');
    return id ? `<${id}>` : null;
  }
  const id = value.replace(/\([^()]*\)/g, ' ').trim().split(/\s+/)[0];
  return id ? `<${id}>` : null;
}

/**
 * The summary is recorded in PostgreSQL text columns, which cannot hold U+0000 (a NUL in a Subject made every
 * store fail, answered 451 forever). NULs are dropped here; the raw message keeps the exact bytes.
 */
const withoutNul = (value: string): string => value.replace(/\u0000/g, '');

export function summarizeHeaderBlock(block: HeaderBlock): MessageHeaderSummary {
  const from = getHeader(block, 'from');
  const subject = getHeader(block, 'subject');
  const messageId = getHeader(block, 'message-id');
  return {
    from: from === undefined ? null : (parseAddressList(withoutNul(decodeHeaderText(from)))[0] ?? null),
    subject: subject === undefined ? null : withoutNul(decodeEncodedWords(decodeHeaderText(subject))).trim(),
    messageId: normalizeMessageId(messageId === undefined ? undefined : withoutNul(messageId)),
  };
}

/** From, Subject and Message-ID of a raw message in one pass over its header section. */
export function summarizeMessageHeaders(raw: Buffer): MessageHeaderSummary {
  return summarizeHeaderBlock(parseHeaderBlock(raw));
}

/** First address of the header From (RFC 5322 3.6.2), or null. */
export function extractHeaderFrom(raw: Buffer): string | null {
  return summarizeMessageHeaders(raw).from;
}

/** Subject, RFC 2047 decoded (RFC 5322 3.6.5), or null when there is no Subject field. */
export function extractSubject(raw: Buffer): string | null {
  return summarizeMessageHeaders(raw).subject;
}

/** Message-ID in `<id>` form (RFC 5322 3.6.4), or null. */
export function extractMessageId(raw: Buffer): string | null {
  return summarizeMessageHeaders(raw).messageId;
}
