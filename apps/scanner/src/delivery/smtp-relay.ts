import { resolveMx, resolve4 } from 'node:dns/promises';
import { isIP } from 'node:net';
import { PassThrough } from 'node:stream';
import nodemailer, { type SentMessageInfo, type Transporter } from 'nodemailer';
import { mailExchangersOf, type DownstreamRoute } from '@mailwarden/delivery';

export interface RecipientFailure {
  recipient: string;
  /** The downstream's reply or the connection error. */
  error: string;
  /** A 5xx reply: retrying cannot help. */
  permanent: boolean;
}

export interface RelayResult {
  accepted: string[];
  failed: RecipientFailure[];
  /** The downstream's final reply when it accepted the message (e.g. `250 2.0.0 Ok: queued as …`). */
  reply?: string;
}

interface NodemailerError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  recipient?: string;
  rejectedErrors?: NodemailerError[];
}

/**
 * Only a 5xx to the message itself (MAIL FROM, RCPT TO, DATA) is permanent. A failure before that (connection,
 * greeting, EHLO, a STARTTLS that the domain requires but the downstream refuses or botches, a certificate that
 * does not verify) is a problem of the route, which an admin can fix: the copy waits (Postfix defers "TLS is
 * required, but was not offered" the same way) instead of bouncing.
 */
function isPermanent(error: NodemailerError): boolean {
  const aboutTheMessage = error.code === 'EENVELOPE' || error.code === 'EMESSAGE' || ['MAIL FROM', 'RCPT TO', 'DATA'].includes(error.command ?? '');
  return aboutTheMessage && (error.responseCode ?? 0) >= 500;
}

// The reply as is for the message's own commands (a DSN's Diagnostic-Code); otherwise which step failed, too.
const describe = (error: NodemailerError) =>
  `${error.command && !['MAIL FROM', 'RCPT TO', 'DATA'].includes(error.command) ? `${error.command}: ` : ''}${error.response ?? error.message}`.replace(/[\r\n]+/g, ' ').slice(0, 500);

function transportOptions(route: DownstreamRoute, options: { name: string; timeoutMs: number }) {
  return {
    host: route.host,
    port: route.port,
    secure: false,
    requireTLS: route.requireTls,
    // SNI only for a name (RFC 6066 3: literal addresses are not sent).
    tls: { rejectUnauthorized: route.verifyCert, ...(isIP(route.host) ? {} : { servername: route.host }) },
    name: options.name,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  };
}

/**
 * Open SMTP connections to each downstream route, reused from one delivery to the next as an MTA's connection cache
 * does (Postfix), instead of a TCP connect, greeting, EHLO and STARTTLS per copy (which held the delivery workers to
 * ~64 copies/s in tools/bench). A route unused for `idleMs` is closed, before most servers' own idle timeouts.
 */
export class DownstreamConnections {
  private readonly routes = new Map<string, { transport: Transporter; lastUsed: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly options: { name: string; timeoutMs: number; connectionsPerRoute: number; idleMs: number }) {
    this.sweep = setInterval(() => this.closeIdle(), options.idleMs).unref();
  }

  transportFor(route: DownstreamRoute): Transporter {
    const key = JSON.stringify([route.host.toLowerCase(), route.port, route.requireTls, route.verifyCert]);
    let entry = this.routes.get(key);
    if (!entry) {
      const transport = nodemailer.createTransport({
        ...transportOptions(route, this.options),
        pool: true,
        maxConnections: this.options.connectionsPerRoute,
        // A fresh connection now and then, so one long-lived session does not carry every message.
        maxMessages: 100,
      });
      entry = { transport, lastUsed: Date.now() };
      this.routes.set(key, entry);
    }
    entry.lastUsed = Date.now();
    return entry.transport;
  }

  closeIdle(now = Date.now()): void {
    for (const [key, entry] of this.routes) {
      if (now - entry.lastUsed >= this.options.idleMs) {
        entry.transport.close();
        this.routes.delete(key);
      }
    }
  }

  close(): void {
    clearInterval(this.sweep);
    this.closeIdle(Number.POSITIVE_INFINITY);
  }
}

/**
 * A prepared copy as nodemailer's SMTP transports read a message: their `send(mail, callback)`, the interface through
 * which `Transporter.sendMail` hands them a composed message (`mail.data`, and `mail.message` with `getEnvelope`,
 * `messageId`, `getHeader`, `createReadStream`; smtp-pool and smtp-transport read nothing else). The copy is already a
 * finished message (prepareCopy, DKIM, ARC), so `sendMail`'s composing of a `raw` message is only cost: a MimeNode
 * per copy (random message id and boundary, address parsing, three piped streams): ~0.4 ms of CPU per 20 KB copy
 * (tools/bench/README.md, issue-20g). The pool's own logic (connection reuse, a requeue when a reused connection
 * was closed before a byte was sent, idle close) is kept: the stream is a fresh one per attempt, unread until the
 * pool sends it. Dot-stuffing stays nodemailer's (smtp-connection's DataStream, for every message it sends).
 */
function preparedMail(envelope: { from: string; to: string[] }, raw: Buffer): Parameters<Transporter['transporter']['send']>[0] {
  const message = {
    getEnvelope: () => envelope,
    messageId: () => '',
    getHeader: () => '',
    createReadStream: () => new PassThrough().end(raw),
  };
  return { data: {}, message } as unknown as Parameters<Transporter['transporter']['send']>[0];
}

function send(transport: Transporter, envelope: { from: string; to: string[] }, raw: Buffer): Promise<SentMessageInfo> {
  return new Promise((resolve, reject) => transport.transporter.send(preparedMail(envelope, raw), (error, info) => (error ? reject(error) : resolve(info as SentMessageInfo))));
}

/**
 * One SMTP transaction to a downstream with nodemailer, on a pooled connection when `connections` is given (else a
 * connection of its own). Per-recipient outcomes: a 5xx is permanent; a 4xx, a refused connection, a timeout or a
 * failed mandatory STARTTLS is temporary (the copy waits and is retried).
 */
export async function relayMessage(
  route: DownstreamRoute,
  message: { from: string; to: string[]; raw: Buffer },
  options: { name: string; timeoutMs: number; connections?: DownstreamConnections },
): Promise<RelayResult> {
  const transport = options.connections?.transportFor(route) ?? nodemailer.createTransport(transportOptions(route, options));
  try {
    const info = await send(transport, { from: message.from, to: message.to }, message.raw);
    const rejectedErrors = ((info as { rejectedErrors?: NodemailerError[] }).rejectedErrors ?? []).map((error) => ({
      recipient: String(error.recipient ?? ''),
      error: describe(error),
      permanent: (error.responseCode ?? 0) >= 500,
    }));
    const failedSet = new Set(rejectedErrors.map((failure) => failure.recipient.toLowerCase()));
    const reply = (info as { response?: unknown }).response;
    return { accepted: message.to.filter((recipient) => !failedSet.has(recipient.toLowerCase())), failed: rejectedErrors, reply: typeof reply === 'string' ? reply : undefined };
  } catch (caught) {
    const error = caught as NodemailerError;
    if (error.rejectedErrors?.length) {
      return {
        accepted: [],
        failed: error.rejectedErrors.map((rejected) => ({ recipient: String(rejected.recipient ?? ''), error: describe(rejected), permanent: (rejected.responseCode ?? 0) >= 500 })),
      };
    }
    const permanent = isPermanent(error);
    return { accepted: [], failed: message.to.map((recipient) => ({ recipient, error: describe(error), permanent })) };
  } finally {
    if (!options.connections) {
      transport.close();
    }
  }
}

/**
 * The hosts that receive mail for a domain: its MX records by preference, or the domain itself when it has none
 * (RFC 5321 5.1 implicit MX). A null MX (RFC 7505, `.`) means the domain accepts no mail.
 */
export async function mailExchangers(domain: string): Promise<string[]> {
  try {
    return mailExchangersOf(await resolveMx(domain));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENODATA') {
      await resolve4(domain);
      return [domain];
    }
    throw error;
  }
}
