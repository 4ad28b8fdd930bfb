/**
 * Google Workspace journal copies (routing "also deliver to" / compliance copies). There is no wrapper:
 * the message is the original, with `X-Gm-Original-To` naming the recipient the copy was made for.
 * Google makes one copy per recipient and may deliver a copy twice, so the store deduplicates on
 * Message-ID + recipient (DESIGN.md 3).
 */

import { dedupKeysFor, uniqueLowerCase } from './dedup-keys';
import { JournalParseError, JournalParseReason } from './journal-parse-error';
import type { GoogleJournalCopy, GoogleSenderSource, UnwrapJournalOptions } from './journal.types';
import { normalizeMessageId } from './message-headers';
import { isAddress, mailboxAddress, parseAddressList } from './mime/address-list';
import { decodeHeaderText, getHeader, hasHeader, parseHeaderBlock, type HeaderBlock } from './mime/header-block';

export const GOOGLE_ORIGINAL_TO_HEADER = 'X-Gm-Original-To';

export function isGoogleJournalCopy(headers: HeaderBlock): boolean {
  return hasHeader(headers, GOOGLE_ORIGINAL_TO_HEADER);
}

function resolveSender(headers: HeaderBlock, envelopeSender: string | undefined): [string, GoogleSenderSource] {
  if (envelopeSender !== undefined) {
    return [mailboxAddress(envelopeSender), 'envelope'];
  }
  // RFC 5321 4.4: Return-Path records the envelope sender of the delivery that added it (topmost = last).
  const returnPath = getHeader(headers, 'return-path');
  if (returnPath !== undefined) {
    return [mailboxAddress(decodeHeaderText(returnPath)), 'return-path'];
  }
  const from = getHeader(headers, 'from');
  const fromAddress = from === undefined ? undefined : parseAddressList(decodeHeaderText(from))[0];
  if (fromAddress !== undefined) {
    return [fromAddress, 'from'];
  }
  return ['', 'none'];
}

/**
 * Reads a Google Workspace journal copy. Only the topmost `X-Gm-Original-To` counts: fields lower down
 * were added by earlier hops (or written by the sender) and do not describe this copy.
 * Throws JournalParseError when the field names no usable address.
 */
export function parseGoogleJournalCopy(
  raw: Buffer,
  headers: HeaderBlock = parseHeaderBlock(raw),
  opts: UnwrapJournalOptions = {},
): GoogleJournalCopy {
  const originalTo = getHeader(headers, GOOGLE_ORIGINAL_TO_HEADER) ?? '';
  const recipients = [...new Set(parseAddressList(decodeHeaderText(originalTo)).filter(isAddress))];
  if (recipients.length === 0) {
    throw new JournalParseError(JournalParseReason.NoRecipients, `${GOOGLE_ORIGINAL_TO_HEADER} holds no address`);
  }
  const [sender, senderSource] = resolveSender(headers, opts.envelopeSender);
  const envelopeRecipients = uniqueLowerCase(recipients);
  const messageId = normalizeMessageId(getHeader(headers, 'message-id'));
  return {
    kind: 'google',
    sender,
    senderSource,
    recipients,
    envelopeRecipients,
    messageId,
    dedupKeys: dedupKeysFor(messageId, envelopeRecipients),
    original: raw,
  };
}
