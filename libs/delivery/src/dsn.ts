import { randomUUID } from 'node:crypto';
import { splitHeaderSection } from './header-section';
import { rfc5322Date } from './trace-headers';

export interface FailedRecipient {
  recipient: string;
  /** The downstream's last reply or the connection error. */
  diagnostic: string;
  /** The downstream host last tried. */
  remoteMta?: string | null;
  /** True when the retry window ran out on temporary failures (RFC 3463 X.4.7: delivery time expired). */
  expired: boolean;
  lastAttemptAt?: Date | null;
}

export interface DsnInput {
  /** Our host name (Reporting-MTA, MAILER-DAEMON address). */
  reportingMta: string;
  /** The envelope sender the DSN goes to. */
  to: string;
  arrivalDate: Date;
  /** The original message (only its header section is returned: RFC 3462 text/rfc822-headers). */
  original: Buffer;
  recipients: readonly FailedRecipient[];
  now?: Date;
  boundary?: string;
  messageId?: string;
}

const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();

/** The RFC 3463 status of a failure: the enhanced code in the reply when it has one, else by its class. */
export function dsnStatus(recipient: FailedRecipient): string {
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(recipient.diagnostic);
  if (recipient.expired) {
    return '4.4.7';
  }
  if (enhanced && enhanced[1] === '5') {
    return enhanced[0];
  }
  return '5.0.0';
}

/**
 * A delivery status notification (RFC 3464) for copies that failed for good: a multipart/report
 * (RFC 6522, report-type=delivery-status) with a human-readable part, the message/delivery-status part
 * (one per-message block and one block per recipient), and the original's header section. Sent with the null
 * reverse-path so it can never cause another bounce (RFC 5321 6.1, 4.5.5).
 */
export function buildDsn(input: DsnInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = input.boundary ?? `mw-dsn-${randomUUID()}`;
  const messageId = input.messageId ?? `<${randomUUID()}@${input.reportingMta}>`;
  const headers = splitHeaderSection(input.original).fields.join('');
  const human = [
    `This is the mail system at ${input.reportingMta}.`,
    '',
    'Your message could not be delivered to one or more recipients.',
    '',
    ...input.recipients.map((recipient) => `<${recipient.recipient}>: ${recipient.expired ? 'delivery time expired, last error: ' : ''}${oneLine(recipient.diagnostic)}`),
    '',
  ];
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`];
  const perRecipient = input.recipients.map((recipient) =>
    [
      `Final-Recipient: rfc822; ${recipient.recipient}`,
      'Action: failed',
      `Status: ${dsnStatus(recipient)}`,
      ...(recipient.remoteMta ? [`Remote-MTA: dns; ${oneLine(recipient.remoteMta)}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(recipient.diagnostic)}`,
      ...(recipient.lastAttemptAt ? [`Last-Attempt-Date: ${rfc5322Date(recipient.lastAttemptAt)}`] : []),
    ].join('\r\n'),
  );
  const text = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.to}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: ${messageId}`,
    // RFC 3834 5: automatic responses are marked so that auto-responders do not answer them.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    ...human,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), Buffer.from(headers, 'latin1'), Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
}
