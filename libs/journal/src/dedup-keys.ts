/**
 * Keys the message store deduplicates journal copies on (DESIGN.md 3: Message-ID + recipient). Journaling
 * can deliver the same message more than once per recipient (Google sends one copy per recipient and may
 * retry; Microsoft 365 may split one message over several reports), so one key per recipient.
 */
export function dedupKeysFor(messageId: string | null, envelopeRecipients: readonly string[]): string[] {
  if (!messageId) {
    // Without a Message-ID there is nothing stable to match on: store every copy rather than drop one.
    return [];
  }
  return envelopeRecipients.map((recipient) => `${messageId}|${recipient.toLowerCase()}`);
}

/** Lower-cased addresses in first-seen order, duplicates removed (RFC 5321 2.4 treats the domain as case-insensitive; local parts are in practice). */
export function uniqueLowerCase(addresses: Iterable<string>): string[] {
  return [...new Set([...addresses].map((address) => address.toLowerCase()))];
}
