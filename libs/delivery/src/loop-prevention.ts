import { createHash } from 'node:crypto';
import { extractMessageId, normalizeLineEnds } from '@mailwarden/journal';
import { headerValues } from './header-section';

/**
 * The loop-prevention header put on every copy Mailwarden relays (DESIGN.md §6: the Microsoft 365 transport
 * rule that routes mail through Mailwarden has an exception for it). Value: `<host>; <message id>`.
 */
export const PROCESSED_HEADER = 'X-Mailwarden-Processed';

/** Beyond this many of our own marks a message is looping (RFC 5321 6.3: detect and stop routing loops). */
export const MAX_PROCESSED_MARKS = 3;

export function processedHeader(host: string, messageId: string): string {
  return `${PROCESSED_HEADER}: ${host}; ${messageId}`;
}

export interface ProcessedMark {
  host: string;
  messageId: string;
}

/** Every well-formed X-Mailwarden-Processed mark of the message, top first. */
export function readProcessedMarks(raw: Buffer): ProcessedMark[] {
  return headerValues(raw, PROCESSED_HEADER).flatMap((value) => {
    const match = /^([^;\s]+)\s*;\s*([0-9a-f-]{36})$/i.exec(value.trim());
    return match ? [{ host: match[1]!.toLowerCase(), messageId: match[2]!.toLowerCase() }] : [];
  });
}

/** The message a mark names, as stored (MessageRepository.findMarkedOriginal). */
export interface MarkedOriginal {
  id: string;
  accountId: string;
  messageIdHeader: string | null;
  raw: Buffer | null;
}

export type MarkMismatchReason = 'unknown-message' | 'other-account' | 'message-id-differs' | 'body-differs' | 'headers-differ';

/**
 * The header fields that say who a message is from and to. Relaying never changes them (prepareCopy adds trace
 * fields and the mark, and may tag the Subject), so a copy carries the original's; a resend of the tenant's own
 * message under another sender or reply address does not.
 */
const IDENTITY_FIELDS = ['from', 'sender', 'reply-to', 'to', 'cc'] as const;

/** The identity fields' values, unfolded and with runs of white space made one space. */
function identityOf(raw: Buffer): string {
  return JSON.stringify(IDENTITY_FIELDS.map((name) => headerValues(raw, name).map((value) => value.replace(/\s+/g, ' ').trim())));
}

export interface ProcessedMarkCheck {
  /** The stored message this one is a relayed copy of; null: not proven, scan it. */
  originalId: string | null;
  /** The marks that failed the check, and why (the caller logs `*.processed_mark_mismatch`). */
  mismatches: Array<{ messageId: string; reason: MarkMismatchReason }>;
}

/**
 * SHA-256 of the body (everything after the empty line ending the header section), line ends normalised and
 * trailing line ends dropped (RFC 5321 4.1.1.4: a relay adds the final CRLF a message lacks). A relayed copy
 * changes only header fields (prepareCopy: trace fields, mark, Subject tag; DKIM and ARC add fields), so its body
 * digest is the original's.
 */
export function bodyDigest(raw: Buffer): string {
  const normalised = normalizeLineEnds(raw);
  const separator = normalised.indexOf('\r\n\r\n');
  let body = separator < 0 ? Buffer.alloc(0) : normalised.subarray(separator + 4);
  let end = body.length;
  while (end >= 2 && body[end - 2] === 0x0d && body[end - 1] === 0x0a) {
    end -= 2;
  }
  body = body.subarray(0, end);
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Whether a marked message is a copy Mailwarden already processed, for the account it arrived for (the one check of
 * the connector/mailflow path and the journal path; DESIGN.md §2: nothing scanned twice). Every relayed copy, outbound
 * mail included, carries its mark, so anyone who received one can copy the mark onto mail of their own: a mark counts
 * only when the message IS the one it names: same account, same Message-ID, same body (SHA-256), same From, Sender,
 * Reply-To, To and Cc (an exact resend of the tenant's own message under another sender is no copy). The first mark that
 * passes wins; the others are reported as mismatches.
 */
export async function processedOriginalOf(
  raw: Buffer,
  marks: readonly ProcessedMark[],
  accountId: string,
  load: (id: string) => Promise<MarkedOriginal | null>,
): Promise<ProcessedMarkCheck> {
  const mismatches: ProcessedMarkCheck['mismatches'] = [];
  let digest: string | undefined;
  for (const mark of marks) {
    const original = await load(mark.messageId).catch(() => null);
    let reason: MarkMismatchReason | null = null;
    if (!original) {
      reason = 'unknown-message';
    } else if (original.accountId !== accountId) {
      reason = 'other-account';
    } else if (!original.messageIdHeader || original.messageIdHeader !== extractMessageId(raw)) {
      reason = 'message-id-differs';
    } else if (!original.raw || bodyDigest(original.raw) !== (digest ??= bodyDigest(raw))) {
      reason = 'body-differs';
    } else if (identityOf(original.raw) !== identityOf(raw)) {
      reason = 'headers-differ';
    }
    if (!reason) {
      return { originalId: original!.id, mismatches };
    }
    mismatches.push({ messageId: mark.messageId, reason });
  }
  return { originalId: null, mismatches };
}
