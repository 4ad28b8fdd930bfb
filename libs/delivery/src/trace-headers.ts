import { foldHeader } from './header-section';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (value: number) => String(value).padStart(2, '0');

/** RFC 5322 3.3 date-time in UTC with a numeric zone (`+0000`, not the obsolete `GMT`). */
export function rfc5322Date(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

export interface ReceivedTrace {
  /** HELO/EHLO name the client gave. */
  helo: string | null;
  clientIp: string | null;
  /** Our host name. */
  by: string;
  /** STARTTLS was used (RFC 3848 `ESMTPS`). */
  tls: boolean;
  id: string;
  /** Only for a copy to a single recipient (RFC 5321 4.4: `for` must not disclose other recipients). */
  recipient?: string;
  date: Date;
}

/** RFC 5321 4.4 trace field: `Received: from <helo> ([ip]) by <host> with ESMTP(S) id <id> [for <rcpt>]; <date>`. */
export function receivedHeader(trace: ReceivedTrace): string {
  const helo = (trace.helo ?? 'unknown').replace(/[^\x21-\x7e]/g, '?');
  const ip = trace.clientIp ? ` ([${trace.clientIp.includes(':') ? `IPv6:${trace.clientIp}` : trace.clientIp}])` : '';
  const forPart = trace.recipient ? ` for <${trace.recipient}>` : '';
  return foldHeader(`Received: from ${helo}${ip} by ${trace.by} (Mailwarden) with ${trace.tls ? 'ESMTPS' : 'ESMTP'} id ${trace.id}${forPart}; ${rfc5322Date(trace.date)}`);
}

/** The parts of a sender-check record (libs/sender-checks SenderCheckRecord, as stored in Verdict.checks) read here. */
export interface StoredCheck {
  check: string;
  status: string;
  evidence?: {
    fromDomain?: string;
    policy?: string;
    domain?: string;
    envelopeSender?: string;
    signatures?: Array<{ domain: string; selector: string; result: string }>;
  };
}

const RESULT = /^(pass|fail|none|neutral|softfail|permerror|temperror|policy)$/;
const token = (value: string) => value.replace(/[^\x21-\x7e]/g, '').replace(/[;()"\\]/g, '');

/**
 * RFC 8601 Authentication-Results with the checks that ran: `dmarc`, `spf`, `dkim` (one resinfo per
 * signature). Checks not run (an earlier one decided), disabled or skipped by the allow list are left out; with
 * none left the result is `none` (RFC 8601 2.2).
 */
export function authenticationResultsHeader(authservId: string, checks: readonly StoredCheck[]): string {
  const parts = authenticationResultsParts(checks);
  return foldHeader(`Authentication-Results: ${authservId}; ${parts.length > 0 ? parts.join(';\r\n ') : 'none'}`);
}

/** The resinfo parts (RFC 8601 2.2) of {@link authenticationResultsHeader}: `dmarc=…`, `spf=…`, `dkim=…`. */
export function authenticationResultsParts(checks: readonly StoredCheck[]): string[] {
  const parts: string[] = [];
  for (const check of checks) {
    if (!RESULT.test(check.status)) {
      continue;
    }
    const evidence = check.evidence ?? {};
    if (check.check === 'dmarc') {
      const policy = evidence.policy ? ` (p=${token(evidence.policy)})` : '';
      parts.push(`dmarc=${check.status}${policy}${evidence.fromDomain ? ` header.from=${token(evidence.fromDomain)}` : ''}`);
    } else if (check.check === 'spf') {
      // RFC 8601 2.7.2: smtp.mailfrom is the MAIL FROM address (or the HELO identity for a null sender).
      const identity = evidence.envelopeSender ? ` smtp.mailfrom=${token(evidence.envelopeSender)}` : evidence.domain ? ` smtp.helo=${token(evidence.domain)}` : '';
      parts.push(`spf=${check.status}${identity}`);
    } else if (check.check === 'dkim') {
      const signatures = evidence.signatures ?? [];
      if (signatures.length === 0) {
        parts.push(`dkim=${check.status}`);
      }
      for (const signature of signatures) {
        const result = RESULT.test(signature.result) ? signature.result : 'permerror';
        parts.push(`dkim=${result} header.d=${token(signature.domain)} header.s=${token(signature.selector)}`);
      }
    }
  }
  return parts;
}

/**
 * RFC 8601 5: a border MTA removes Authentication-Results fields that claim its own authserv-id before adding
 * its own, or a sender could forge our verdict.
 */
export function claimsAuthservId(value: string, authservId: string): boolean {
  return value.split(';')[0]!.trim().split(/\s+/)[0]!.toLowerCase() === authservId.toLowerCase();
}
