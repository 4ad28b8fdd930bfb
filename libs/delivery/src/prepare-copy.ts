import { normalizeLineEnds } from '@mailwarden/journal';
import { fieldName, prependHeaders, removeHeaders } from './header-section';
import { PROCESSED_HEADER, processedHeader } from './loop-prevention';
import { tagSubject } from './subject-tag';
import { authenticationResultsHeader, claimsAuthservId, receivedHeader, type ReceivedTrace, type StoredCheck } from './trace-headers';

export interface CopyOptions {
  /** Our host name: authserv-id of Authentication-Results and the host of the loop-prevention mark. */
  host: string;
  messageId: string;
  received: Omit<ReceivedTrace, 'by' | 'id'>;
  /** Sender checks as stored in the verdict; null when none ran (internal, already processed). */
  checks: readonly StoredCheck[] | null;
  /** TAG_SUBJECT: the tag to put before the Subject. */
  subjectTag?: string | null;
  /** Add the loop-prevention mark (copies going back to Microsoft 365). */
  markProcessed: boolean;
  /** Keep the marks already on the message (relaying one that was processed before); otherwise they are dropped. */
  keepProcessedMarks?: boolean;
}

/**
 * The copy of a stored message that goes downstream: bare CR and LF normalised to CRLF first (DESIGN.md §10:
 * Mailwarden must not pass smuggling sequences to the next hop), Authentication-Results that claim our
 * authserv-id removed (RFC 8601 5), foreign or forged loop marks removed, the Subject tagged when asked, then
 * the trace fields on top: Received (RFC 5321 4.4), Authentication-Results (RFC 8601), and the loop mark.
 */
export function prepareCopy(raw: Buffer, options: CopyOptions): Buffer {
  let copy = normalizeLineEnds(raw);
  copy = removeHeaders(copy, (name, value) => {
    if (name === 'authentication-results') {
      return claimsAuthservId(value, options.host);
    }
    return name === PROCESSED_HEADER.toLowerCase() && !options.keepProcessedMarks;
  });
  if (options.subjectTag) {
    copy = tagSubject(copy, options.subjectTag);
  }
  const trace = [
    receivedHeader({ ...options.received, by: options.host, id: options.messageId }),
    ...(options.checks ? [authenticationResultsHeader(options.host, options.checks)] : []),
  ];
  if (options.markProcessed) {
    trace.unshift(processedHeader(options.host, options.messageId));
  }
  return prependHeaders(copy, trace);
}

export interface DownstreamRoute {
  host: string;
  port: number;
  requireTls: boolean;
  verifyCert: boolean;
}

export interface CopyRequest {
  recipient: string;
  subjectTag: string | null;
  route: DownstreamRoute;
  /** Anything else that makes copies differ (e.g. the sender-check results written into the copy). */
  variant?: string;
}

export interface PlannedCopy {
  route: DownstreamRoute;
  subjectTag: string | null;
  recipients: string[];
}

/**
 * Splits a message into the copies that go downstream: recipients share a copy (one SMTP transaction) only when
 * they go to the same downstream with the same rendering (same tag or none), so each recipient gets exactly the
 * action decided for them.
 */
export function planCopies(requests: readonly CopyRequest[]): PlannedCopy[] {
  const copies = new Map<string, PlannedCopy>();
  for (const request of requests) {
    const { route } = request;
    const key = JSON.stringify([route.host.toLowerCase(), route.port, route.requireTls, route.verifyCert, request.subjectTag, request.variant ?? null]);
    const copy = copies.get(key) ?? { route, subjectTag: request.subjectTag, recipients: [] };
    copy.recipients.push(request.recipient);
    copies.set(key, copy);
  }
  return [...copies.values()];
}

/** Whether the header section names this field (case-insensitive). */
export function hasHeader(raw: Buffer, name: string): boolean {
  const lower = name.toLowerCase();
  const end = raw.indexOf('\r\n\r\n');
  return raw
    .subarray(0, end < 0 ? raw.length : end)
    .toString('latin1')
    .split('\r\n')
    .some((line) => !line.startsWith(' ') && !line.startsWith('\t') && fieldName(line) === lower);
}
