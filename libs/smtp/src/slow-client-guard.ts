import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerOptions } from 'smtp-server';

/** What a client in the middle of a line must deliver per window when the line does not end: one RFC 5321 text line. */
export const MIN_LINE_PROGRESS_OCTETS = 1000;

export const SLOW_CLIENT_REPLY = '421 4.4.2 Line not completed in time, closing connection\r\n';

/**
 * Watches the plaintext bytes of one connection: once a line has started, it must end, or at least
 * {@link MIN_LINE_PROGRESS_OCTETS} more octets must arrive, within each `timeoutMs` window; otherwise the client
 * gets a 421 and the connection is closed. Between lines nothing is timed here (smtp-server's idle timeout is).
 */
export function watchLineProgress(socket: Socket, timeoutMs: number, onClosed?: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  let progress = 0;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    progress = 0;
    timer = setTimeout(() => {
      if (progress >= MIN_LINE_PROGRESS_OCTETS) {
        arm();
        return;
      }
      socket.end(SLOW_CLIENT_REPLY);
      onClosed?.();
      // A client that does not read its reply must not keep the socket either.
      setTimeout(() => socket.destroy(), 1_000).unref();
    }, timeoutMs);
    timer.unref();
  };
  socket.on('data', (chunk: Buffer) => {
    const lineEnd = chunk.lastIndexOf(0x0a);
    if (lineEnd >= 0) {
      stop();
    }
    const partial = chunk.length - lineEnd - 1;
    if (partial > 0) {
      if (!timer) {
        arm();
      }
      progress += partial;
    }
  });
  socket.once('close', stop);
}

/** Runs `attach` once something consumes `socket` (a 'data' listener on a paused socket would take bytes from smtp-server). */
function whenFlowing(socket: Socket, attach: () => void, triesLeft = 100): void {
  if (socket.destroyed) {
    return;
  }
  if (socket.readableFlowing === true) {
    attach();
    return;
  }
  if (triesLeft > 0) {
    setImmediate(() => whenFlowing(socket, attach, triesLeft - 1));
  }
}

/**
 * Slow-loris defence for an smtp-server listener. Its `socketTimeout` is an idle timeout that every received byte
 * resets, so a client trickling one byte a second held its connection (and a `maxClients` slot) for ever. With this,
 * a started line must end or make {@link MIN_LINE_PROGRESS_OCTETS} of progress within `timeoutMs` (the apps pass
 * SMTP_SOCKET_TIMEOUT_MS): commands and DATA lines alike, on the TCP socket and, after STARTTLS, on the TLS socket.
 */
export function closeSlowClients(server: SMTPServer, timeoutMs: number, onClosed?: () => void): void {
  server.server.on('connection', (socket: Socket) => whenFlowing(socket, () => watchLineProgress(socket, timeoutMs, onClosed)));
  // smtp-server calls `server.onSecure` (the option, or its default) after each STARTTLS handshake.
  const target = server as SMTPServer & { onSecure: NonNullable<SMTPServerOptions['onSecure']> };
  const onSecure = target.onSecure.bind(server);
  target.onSecure = (socket, session, callback) =>
    onSecure(socket, session, (error) => {
      callback(error);
      // smtp-server pipes the TLS socket into its parser once the callback returns without an error.
      if (!error) {
        whenFlowing(socket as Socket, () => watchLineProgress(socket as Socket, timeoutMs, onClosed));
      }
    });
}
