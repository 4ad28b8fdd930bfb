import type { SMTPServerSession } from 'smtp-server';

/**
 * What an SMTP front learns during one mail transaction (the tenants its recipients name, ...), kept on
 * smtp-server's own envelope object. smtp-server replaces `session.envelope` whenever a transaction ends or is
 * abandoned: RSET, EHLO/HELO, a completed STARTTLS (RFC 3207 4.2: nothing from before TLS survives) and after every
 * final reply to DATA (250, 4xx, 5xx, the 552 of an oversized message). State keyed on that object therefore ends
 * with it and can never carry over into the next transaction; MAIL (RFC 5321 4.1.1.2: it begins a transaction)
 * starts a fresh one explicitly.
 */
export class SmtpTransactions<T> {
  private readonly states = new WeakMap<SMTPServerSession['envelope'], T>();

  constructor(private readonly create: (session: SMTPServerSession) => T) {}

  /** At MAIL FROM: a new, empty transaction; whatever the session held before is dropped. */
  begin(session: SMTPServerSession): T {
    const state = this.create(session);
    this.states.set(session.envelope, state);
    return state;
  }

  /** The state of the session's current transaction (a fresh one if none was begun on this envelope). */
  current(session: SMTPServerSession): T {
    return this.states.get(session.envelope) ?? this.begin(session);
  }
}
