/**
 * The SMTP replies of both fronts (journal ingest, gateway) in one place: the reply type, the error an smtp-server
 * handler throws or passes to its callback to refuse a command, and the replies that need a rule to pick their code.
 */

/** An SMTP reply: basic code, enhanced status code (RFC 3463) and text. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

/** The reply text as smtp-server sends it after the code: enhanced code, then the text. */
export function formatReply(reply: SmtpReply): string {
  return `${reply.enhanced} ${reply.text}`;
}

/** A refused command: smtp-server sends `responseCode` and the message (`<enhanced> <text>`) as the reply. */
export class SmtpReplyError extends Error {
  readonly responseCode: number;

  constructor(readonly reply: SmtpReply) {
    super(formatReply(reply));
    this.name = 'SmtpReplyError';
    this.responseCode = reply.code;
  }
}

export const smtpError = (code: number, enhanced: string, text: string): SmtpReplyError => new SmtpReplyError({ code, enhanced, text });

const sanitize = (text: string) => text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 400);

/**
 * The 550 answered to DATA when policy rejects the message (never a bounce afterwards): RFC 7372 3.2 gives
 * 5.7.23 for an SPF failure, 5.7.26 for failing authentication (used for DMARC, as the large providers do);
 * anything else is 5.7.1 (delivery not authorized).
 */
export function rejectReply(failedCheck: string | null | undefined, detail: string): SmtpReply {
  const enhanced = failedCheck === 'spf' ? '5.7.23' : failedCheck === 'dmarc' ? '5.7.26' : '5.7.1';
  return { code: 550, enhanced, text: `Message rejected by policy: ${sanitize(detail || failedCheck || 'policy')}` };
}

/**
 * DNS did not answer for a check that could reject: try again later. RFC 7372 3.2: X.7.24 is the SPF validation
 * error (4.7.24 for an SPF temperror); other checks get the generic 4.7.0.
 */
export function temporaryAuthFailureReply(checks: readonly string[]): SmtpReply {
  const enhanced = checks.length > 0 && checks.every((check) => check === 'spf') ? '4.7.24' : '4.7.0';
  return { code: 451, enhanced, text: `Sender authentication temporarily unavailable (${checks.join(', ') || 'dns'}), try again later` };
}
