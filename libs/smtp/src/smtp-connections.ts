import type { Socket } from 'node:net';
import type { SMTPServer } from 'smtp-server';

/** The parts of smtp-server's SMTPConnection the front hooks into (not in its typings). */
export interface SmtpConnectionInternals {
  /** The connection's socket: the TLS socket once STARTTLS has completed. */
  _socket?: Socket;
  /** The one write site of every reply (greeting, the front's answers, smtp-server's own errors). */
  send(code: number, ...rest: unknown[]): unknown;
  /** Called with each command line, never with DATA content. */
  _onCommand(line: Buffer | string | undefined, callback?: unknown): unknown;
}

/**
 * Runs `wrap` on each connection `server` takes, before its greeting is sent. smtp-server keeps its connections in
 * a Set and adds each as it is made; several calls chain (each wraps what the previous left).
 */
export function onEachConnection(server: SMTPServer, wrap: (connection: SmtpConnectionInternals) => void): void {
  const connections = (server as unknown as { connections: Set<object> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (connection: object) => {
    const internals = connection as SmtpConnectionInternals;
    if (typeof internals.send === 'function' && typeof internals._onCommand === 'function') {
      wrap(internals);
    }
    return add(connection);
  };
}

/** The verb of a command line, upper case (never its arguments). */
export function commandVerb(line: Buffer | string | undefined): string {
  return (line ?? '').toString().split(' ', 1)[0]!.toUpperCase();
}

/**
 * RFC 2920 §3.1: the commands a client may send before the replies to the ones before (the last of a group is DATA).
 * Never STARTTLS, EHLO, QUIT or AUTH: their reply must leave before the session changes.
 */
const PIPELINED_COMMANDS: ReadonlySet<string> = new Set(['MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP']);

/**
 * Sends the replies to a pipelined group in one write. smtp-server writes each reply on its own (one syscall and one
 * loopback/TCP segment each: MAIL, RCPT…, DATA). Like Postfix's smtpd, which flushes its replies when the client's
 * pipelined input is used up, the socket is corked when a pipelinable command arrives and uncorked when the group
 * ends: at the reply to DATA (RFC 2920: DATA is the last command of a group; the client waits for its 354), or else
 * once the event loop has run what that input started (setImmediate: after the handlers' promise continuations,
 * before the next round of I/O). Any other command first sends what is held, so a STARTTLS, QUIT or EHLO reply is
 * never held and never leaves behind a held one; a reply written later (the end of DATA's, after the commit) is
 * sent at once.
 */
export function batchPipelinedReplies(connection: SmtpConnectionInternals): void {
  const onCommand = connection._onCommand.bind(connection);
  const send = connection.send.bind(connection);
  let corked: Socket | null = null;
  let verb = '';
  const flush = () => {
    const socket = corked;
    corked = null;
    // A socket ended meanwhile has flushed itself (end() uncorks); uncork on it is then a no-op.
    socket?.uncork();
  };
  connection._onCommand = (line, callback) => {
    verb = commandVerb(line);
    if (!PIPELINED_COMMANDS.has(verb)) {
      flush();
    } else if (!corked && connection._socket && !connection._socket.destroyed) {
      corked = connection._socket;
      corked.cork();
      setImmediate(flush);
    }
    return onCommand(line, callback);
  };
  connection.send = (code, ...rest) => {
    const sent = send(code, ...rest);
    if (verb === 'DATA') {
      flush();
    }
    return sent;
  };
}
