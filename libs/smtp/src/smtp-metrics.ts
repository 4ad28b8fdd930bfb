import type { Registry } from 'prom-client';
import type { SMTPServer } from 'smtp-server';
import { counter, gauge, metricsIn } from '@mailwarden/observability';
import { commandVerb, onEachConnection, type SmtpConnectionInternals } from './smtp-connections';

/** The commands a reply is labelled with; anything else a client sends is `OTHER` (labels stay a fixed set). */
const COMMANDS: ReadonlySet<string> = new Set(['EHLO', 'HELO', 'LHLO', 'STARTTLS', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP', 'AUTH']);

const SMTP_METRICS = {
  sessions: counter('mailwarden_smtp_sessions_total', 'SMTP connections, by whether the front took them (accepted) or answered 421 at connect (refused)', ['front', 'outcome']),
  active: gauge('mailwarden_smtp_sessions_active', 'SMTP connections open now', ['front']),
  replies: counter(
    'mailwarden_smtp_replies_total',
    'SMTP replies sent, by the command they answer (CONNECT: the greeting or a refusal at connect) and reply code',
    ['front', 'command', 'code'],
  ),
};

/** The SMTP figures of one front (`front` = journal or gateway) on the app's /metrics. */
export class SmtpMetrics {
  private readonly metrics;

  constructor(
    registry: Registry,
    private readonly front: string,
  ) {
    this.metrics = metricsIn(registry, SMTP_METRICS);
  }

  sessionOpened(accepted: boolean): void {
    this.metrics.sessions.inc({ front: this.front, outcome: accepted ? 'accepted' : 'refused' });
    this.metrics.active.inc({ front: this.front });
  }

  sessionClosed(): void {
    this.metrics.active.dec({ front: this.front });
  }

  reply(command: string, code: number): void {
    const label = Number.isInteger(code) && code >= 200 && code < 600 ? String(code) : 'other';
    this.metrics.replies.inc({ front: this.front, command, code: label });
  }

  /**
   * Counts every reply an smtp-server listener sends, its own (greeting, 5xx syntax, 503 sequence, 421 timeouts)
   * and the front's, at its one write site (`SMTPConnection.send`), labelled with the command being answered.
   */
  instrument(server: SMTPServer): void {
    onEachConnection(server, (connection) => this.wrap(connection));
  }

  private wrap(connection: SmtpConnectionInternals): void {
    let command = 'CONNECT';
    const onCommand = connection._onCommand.bind(connection);
    const send = connection.send.bind(connection);
    connection._onCommand = (line, callback) => {
      // Only the verb: never a line's arguments (addresses) in a label. DATA content does not pass here.
      const verb = commandVerb(line);
      command = COMMANDS.has(verb) ? verb : 'OTHER';
      return onCommand(line, callback);
    };
    connection.send = (code, ...rest) => {
      this.reply(command, code);
      return send(code, ...rest);
    };
  }
}
