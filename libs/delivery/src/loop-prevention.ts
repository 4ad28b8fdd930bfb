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
