import type { TLSSocket } from 'node:tls';
import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Registry } from 'prom-client';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { JournalIngestConfig } from '@mailwarden/config';
import { normalizeClientIp } from './client-address';
import { ClientLimits } from './client-limits';
import { closeSlowClients } from './slow-client-guard';
import { batchPipelinedReplies, onEachConnection } from './smtp-connections';
import { SmtpMetrics } from './smtp-metrics';
import { formatReply, smtpError, SmtpReplyError, type SmtpReply } from './smtp-replies';
import { SmtpTransactions } from './smtp-transaction';
import { loadOrGenerateTlsKeyPair } from './tls-certificate';

/** How one SMTP front listens and what it allows (the apps fill it from their configuration). */
export interface SmtpFrontSettings {
  /** Shown in the greeting after the host name, and in the shutdown reply. */
  banner: string;
  host: string;
  port: number;
  /**
   * SO_REUSEPORT (Linux): several processes of the app on one host listen on the same port, the kernel hands each new
   * connection to one of them. Every listener on the port must set it; off, a second listener fails with EADDRINUSE.
   */
  reusePort: boolean;
  /** The name the server announces (SMTP_HOSTNAME); also the subject of a generated TLS certificate. */
  hostname: string;
  maxMessageSize: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxMessagesPerMinutePerClient: number;
  /** Recipients per transaction; one more is answered 452 4.5.3 (RFC 5321 4.5.3.1.10). */
  maxRecipients: number;
  /** Idle timeout, and the window in which a started line must progress (slow-loris defence). */
  socketTimeoutMs: number;
  /** How long a shutdown waits for the messages in DATA before it closes the listener. */
  drainTimeoutMs: number;
  tls: {
    keyFile?: string;
    certFile?: string;
    /** Ask for a TLS client certificate (not required); only a chain that verifies against `clientCa` counts. */
    requestClientCert?: boolean;
    /** PEM CAs for client certificates; unset: Node's bundled roots. */
    clientCa?: string;
  };
}

/** What the front knows about the connection a command came on. */
export interface SmtpClient {
  sessionId: string;
  /** The client's address, an IPv4-mapped IPv6 address as IPv4. */
  clientIp: string;
  /** The EHLO/HELO name (of this side of STARTTLS), null before one. */
  helo: string | null;
  /** STARTTLS done. */
  secure: boolean;
  /** Subject CN and DNS subjectAltNames of a verified TLS client certificate; empty otherwise. */
  tlsCertNames: string[];
}

/** One received message: the bytes within the size limit and the envelope smtp-server parsed. */
export interface SmtpMessage {
  raw: Buffer;
  /** MAIL FROM, '' for the null reverse-path. */
  envelopeFrom: string;
  /** The accepted RCPT TO addresses, lower-case. */
  recipients: string[];
}

/**
 * What differs between the journal ingest and the gateway: which recipients a transaction may name, and what
 * happens to the message. `T` is the state of one transaction (the tenants its recipients name, ...): it begins
 * at MAIL and ends with RSET, EHLO/HELO, STARTTLS and every final reply to DATA.
 */
export interface SmtpFrontHandler<T> {
  newTransaction(client: SmtpClient): T;
  /**
   * RCPT TO: resolves to accept; throws an {@link SmtpReplyError} to refuse (anything else is answered 451 4.3.0).
   * `envelopeFrom` is the transaction's MAIL FROM ('' for the null reverse-path).
   */
  acceptRecipient(address: string, transaction: T, client: SmtpClient, envelopeFrom: string): Promise<void>;
  /**
   * DATA within the size limit: the reply to send (2xx accepts; 4xx/5xx refuse). Resolve only once the message is
   * committed. Throwing an {@link SmtpReplyError} refuses with it; anything else is answered 451 4.3.0.
   */
  receiveMessage(message: SmtpMessage, transaction: T, client: SmtpClient): Promise<SmtpReply>;
}

type Callback = (error?: Error | null, message?: string) => void;

/** RFC 6531 3.3: without SMTPUTF8 an address is ASCII. (smtp-server turns an A-label domain into Unicode, so only the local part tells.) */
const needsSmtpUtf8 = (address: string) => /[^\x00-\x7f]/.test(address.slice(0, Math.max(address.lastIndexOf('@'), 0)));

/** Names of a verified TLS client certificate: subject CN and DNS subjectAltNames. */
function certificateNames(socket: TLSSocket): string[] {
  if (!socket.authorized) {
    return [];
  }
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) {
    return [];
  }
  const names = [certificate.subject?.CN].flat().filter((name): name is string => typeof name === 'string');
  for (const entry of (certificate.subjectaltname ?? '').split(/,\s*/)) {
    if (entry.startsWith('DNS:')) {
      names.push(entry.slice(4));
    }
  }
  return names;
}

/**
 * The one SMTP front of Mailwarden (journal ingest and gateway; zone-mta's smtp-interface is the model): one
 * smtp-server listener that owns the protocol (transaction state and its resets, connection/rate/recipient/size
 * limits, UTF-8 addresses, slow clients, STARTTLS, the `error` listener, graceful drain) and calls its
 * {@link SmtpFrontHandler} only for what differs between the apps. smtp-server ends DATA only on CRLF.CRLF, so a
 * bare-LF "smuggled" end of data never splits a message (DESIGN.md §10).
 */
export class SmtpFront<T> {
  private readonly logger: Logger;
  private readonly limits: ClientLimits;
  private readonly transactions: SmtpTransactions<T>;
  /** Per connection: counted against its client's limit, and the verified TLS client certificate names. */
  private readonly connections = new Map<string, { counted: boolean; tlsCertNames: string[] }>();
  private server?: SMTPServer;
  private closing = false;
  private inFlight = 0;
  private readonly metrics: SmtpMetrics;
  port = 0;

  /** @param metrics the app's registry and this front's label (`journal`, `gateway`); without: figures kept unexported. */
  constructor(
    private readonly settings: SmtpFrontSettings,
    private readonly handler: SmtpFrontHandler<T>,
    loggerContext: string,
    metrics: { registry?: Registry; front: string } = { front: 'smtp' },
  ) {
    this.logger = new Logger(loggerContext);
    this.metrics = new SmtpMetrics(metrics.registry ?? new Registry(), metrics.front);
    this.limits = new ClientLimits({ maxConnectionsPerClient: settings.maxConnectionsPerClient, maxMessagesPerMinutePerClient: settings.maxMessagesPerMinutePerClient });
    this.transactions = new SmtpTransactions((session) => handler.newTransaction(this.client(session)));
  }

  /** Starts listening; resolves with the port (0 in the settings: a free one). */
  async listen(): Promise<number> {
    const { tls } = this.settings;
    // Never smtp-server's built-in certificate: its private key is public.
    const keyPair = loadOrGenerateTlsKeyPair({ keyFile: tls.keyFile, certFile: tls.certFile, hostname: this.settings.hostname });
    if (keyPair.source === 'generated') {
      this.logger.warn({ event: 'smtp.tls_self_signed', detail: 'SMTP_TLS_KEY_FILE/SMTP_TLS_CERT_FILE not set: STARTTLS uses a certificate generated at start' });
    }
    const server = new SMTPServer({
      key: keyPair.key,
      cert: keyPair.cert,
      ...(tls.clientCa ? { ca: tls.clientCa } : {}),
      ...(tls.requestClientCert ? { requestCert: true, rejectUnauthorized: false } : {}),
      name: this.settings.hostname,
      banner: this.settings.banner,
      size: this.settings.maxMessageSize,
      maxClients: this.settings.maxConnections,
      socketTimeout: this.settings.socketTimeoutMs,
      closeTimeout: this.settings.drainTimeoutMs,
      // DESIGN.md §10: a reverse lookup per connection stalls the front where no resolver answers.
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      onConnect: (session, callback) => this.onConnect(session, callback),
      onSecure: (socket, session, callback) => {
        const connection = this.connections.get(session.id);
        if (connection) {
          connection.tlsCertNames = tls.requestClientCert ? certificateNames(socket as TLSSocket) : [];
        }
        callback();
      },
      onMailFrom: (address, session, callback) => this.onMailFrom(address, session, callback),
      onRcptTo: (address, session, callback) => void this.onRcptTo(address, session, callback),
      onData: (stream, session, callback) => void this.onData(stream, session, callback),
      onClose: (session) => {
        const connection = this.connections.get(session.id);
        if (connection) {
          this.metrics.sessionClosed();
        }
        if (connection?.counted) {
          this.limits.releaseConnection(normalizeClientIp(session.remoteAddress));
        }
        this.connections.delete(session.id);
      },
    });
    this.metrics.instrument(server);
    onEachConnection(server, batchPipelinedReplies);
    // The idle timeout alone lets a client trickling a byte a second hold its connection for ever (slow-loris).
    closeSlowClients(server, this.settings.socketTimeoutMs, () => this.metrics.reply('SLOW_LINE', 421));
    // DESIGN.md §10: a client reset during DATA is an `error` event; without a listener the process exits.
    server.on('error', (error: Error) => this.logger.warn({ event: 'smtp.error', error: error.message }));
    const { host, port, reusePort } = this.settings;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? this.portInUse(error) : error);
      server.once('error', failed);
      // smtp-server passes listen's arguments through to net.Server.listen (reusePort: Node ≥ 22.12, Linux ≥ 3.9).
      server.listen({ port, host, ...(reusePort ? { reusePort: true } : {}) }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.server.address() as { port: number }).port;
    this.logger.log({ event: 'smtp.listening', host, port: this.port, reusePort });
    return this.port;
  }

  /** EADDRINUSE with what the operator needs: which address, and the setting that lets processes share it. */
  private portInUse(error: NodeJS.ErrnoException): Error {
    const { host, port, reusePort } = this.settings;
    const fix = reusePort
      ? 'the listener there does not use SO_REUSEPORT (every process sharing the port must set SMTP_REUSE_PORT=true, and run as the same user)'
      : 'stop the other listener, choose another port, or set SMTP_REUSE_PORT=true on every process that should share it';
    return Object.assign(new Error(`SMTP port ${host}:${port} is already in use: ${fix}`, { cause: error }), { code: error.code });
  }

  /**
   * Graceful shutdown (zone-mta's pattern, STYLE.md §6): new sessions and new transactions get 421, the messages in
   * DATA finish (up to drainTimeoutMs), then the listener closes. With `reusePort` the listener closes first, so new
   * connections go to the other processes on the port; open sessions finish as above. Call it from onModuleDestroy: Nest destroys the
   * app's modules before the global DbModule and QueueModule, so the messages in flight can still be committed.
   */
  async drain(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    this.closing = true;
    const closeListener = () => new Promise<void>((resolve) => server.close(() => resolve()));
    // Sharing the port (SO_REUSEPORT), the other processes are there: stop accepting at once, so that the kernel hands
    // new connections to them, not to this process's 421. Alone on the port, keep accepting to answer 421 meanwhile.
    const closed = this.settings.reusePort ? closeListener() : undefined;
    const deadline = Date.now() + this.settings.drainTimeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await (closed ?? closeListener());
    this.logger.log({ event: 'smtp.closed', unfinished: this.inFlight });
    this.server = undefined;
  }

  private client(session: SMTPServerSession): SmtpClient {
    return {
      sessionId: session.id,
      clientIp: normalizeClientIp(session.remoteAddress),
      helo: session.hostNameAppearsAs || null,
      secure: session.secure,
      tlsCertNames: this.connections.get(session.id)?.tlsCertNames ?? [],
    };
  }

  private shuttingDown(): SmtpReplyError {
    return smtpError(421, '4.3.2', `${this.settings.hostname} ${this.settings.banner} is shutting down, try again later`);
  }

  private onConnect(session: SMTPServerSession, callback: Callback): void {
    if (this.closing) {
      this.metrics.sessionOpened(false);
      this.connections.set(session.id, { counted: false, tlsCertNames: [] });
      return callback(this.shuttingDown());
    }
    const clientIp = normalizeClientIp(session.remoteAddress);
    const refused = this.limits.acquireConnection(clientIp);
    this.metrics.sessionOpened(!refused);
    this.connections.set(session.id, { counted: !refused, tlsCertNames: [] });
    if (refused) {
      this.logger.warn({ event: 'smtp.connection_limited', clientIp });
      return callback(refused);
    }
    callback();
  }

  private onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    if (this.closing) {
      return callback(this.shuttingDown());
    }
    if (needsSmtpUtf8(address.address) && !session.envelope.smtpUtf8) {
      return callback(smtpError(553, '5.6.7', 'Non-ASCII address without SMTPUTF8: send MAIL FROM with the SMTPUTF8 parameter'));
    }
    const clientIp = normalizeClientIp(session.remoteAddress);
    const limited = this.limits.countMessage(clientIp);
    if (limited) {
      this.logger.warn({ event: 'smtp.rate_limited', clientIp });
      return callback(limited);
    }
    // RFC 5321 4.1.1.2: MAIL begins a transaction; nothing of an earlier one is carried over.
    this.transactions.begin(session);
    callback();
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): Promise<void> {
    if (needsSmtpUtf8(address.address) && !session.envelope.smtpUtf8) {
      return callback(smtpError(553, '5.6.7', 'Non-ASCII address without SMTPUTF8: send MAIL FROM with the SMTPUTF8 parameter'));
    }
    const { rcptTo } = session.envelope;
    if (rcptTo.length >= this.settings.maxRecipients) {
      // A repeated address replaces its earlier entry and does not count twice (the scan runs only at the limit).
      const lower = address.address.toLowerCase();
      if (!rcptTo.some((entry) => entry.address.toLowerCase() === lower)) {
        // RFC 5321 4.5.3.1.10: 452 for too many recipients; the client sends the rest in another transaction.
        return callback(smtpError(452, '4.5.3', `Too many recipients: at most ${this.settings.maxRecipients} per transaction, send the rest in another`));
      }
    }
    const client = this.client(session);
    try {
      const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      await this.handler.acceptRecipient(address.address, this.transactions.current(session), client, envelopeFrom);
      callback();
    } catch (error) {
      if (error instanceof SmtpReplyError) {
        this.logger.log({ event: 'smtp.recipient_refused', recipient: address.address, clientIp: client.clientIp, code: error.responseCode });
        return callback(error);
      }
      this.logger.error({ event: 'smtp.recipient_check_failed', error: (error as Error).message });
      callback(smtpError(451, '4.3.0', 'Temporary failure, try again later'));
    }
  }

  /** Reads DATA; once past the size limit every further byte is dropped as it arrives, never kept (then 552). */
  private async readMessage(stream: SMTPServerDataStream): Promise<Buffer | null> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size <= this.settings.maxMessageSize) {
        chunks.push(chunk as Buffer);
      } else if (chunks.length > 0) {
        chunks.length = 0;
      }
    }
    return stream.sizeExceeded || size > this.settings.maxMessageSize ? null : Buffer.concat(chunks, size);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): Promise<void> {
    this.inFlight++;
    const client = this.client(session);
    try {
      const raw = await this.readMessage(stream);
      if (!raw) {
        // RFC 1870 / RFC 3463: 552 5.3.4 message too big for system.
        return callback(smtpError(552, '5.3.4', `Message exceeds the size limit of ${this.settings.maxMessageSize} bytes`));
      }
      const { envelope } = session;
      const message: SmtpMessage = {
        raw,
        envelopeFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
        recipients: envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
      };
      const reply = await this.handler.receiveMessage(message, this.transactions.current(session), client);
      if (reply.code >= 400) {
        return callback(new SmtpReplyError(reply));
      }
      callback(null, formatReply(reply));
    } catch (error) {
      if (error instanceof SmtpReplyError) {
        return callback(error);
      }
      this.logger.error({ event: 'smtp.data_failed', clientIp: client.clientIp, error: (error as Error).message });
      callback(smtpError(451, '4.3.0', 'Temporary failure, try again later'));
    } finally {
      this.inFlight--;
    }
  }
}

/** The SMTP settings of libs/config both SMTP apps have (SMTP_*, HOST). */
export type SmtpFrontConfig = Pick<
  JournalIngestConfig,
  | 'HOST'
  | 'SMTP_HOSTNAME'
  | 'SMTP_MAX_MESSAGE_SIZE'
  | 'SMTP_MAX_CONNECTIONS'
  | 'SMTP_MAX_CONNECTIONS_PER_CLIENT'
  | 'SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT'
  | 'SMTP_MAX_RECIPIENTS'
  | 'SMTP_SOCKET_TIMEOUT_MS'
  | 'SMTP_TLS_KEY_FILE'
  | 'SMTP_TLS_CERT_FILE'
  | 'SMTP_REUSE_PORT'
>;

/** A front's settings from the shared SMTP configuration, plus what is the app's own. */
export function smtpFrontSettings(
  config: SmtpFrontConfig,
  own: { banner: string; port: number; drainTimeoutMs: number; tls?: Pick<SmtpFrontSettings['tls'], 'requestClientCert' | 'clientCa'> },
): SmtpFrontSettings {
  return {
    banner: own.banner,
    host: config.HOST,
    port: own.port,
    reusePort: config.SMTP_REUSE_PORT,
    hostname: config.SMTP_HOSTNAME,
    maxMessageSize: config.SMTP_MAX_MESSAGE_SIZE,
    maxConnections: config.SMTP_MAX_CONNECTIONS,
    maxConnectionsPerClient: config.SMTP_MAX_CONNECTIONS_PER_CLIENT,
    maxMessagesPerMinutePerClient: config.SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT,
    maxRecipients: config.SMTP_MAX_RECIPIENTS,
    socketTimeoutMs: config.SMTP_SOCKET_TIMEOUT_MS,
    drainTimeoutMs: own.drainTimeoutMs,
    tls: { keyFile: config.SMTP_TLS_KEY_FILE, certFile: config.SMTP_TLS_CERT_FILE, ...own.tls },
  };
}

/**
 * An app's SMTP listener as a Nest provider: it plugs its hooks into an {@link SmtpFront}, listens at bootstrap and
 * drains in onModuleDestroy (before Nest destroys the global DbModule, where Prisma disconnects).
 */
export abstract class SmtpFrontService<T> implements SmtpFrontHandler<T>, OnApplicationBootstrap, OnModuleDestroy {
  private readonly front: SmtpFront<T>;

  protected constructor(settings: SmtpFrontSettings, loggerContext: string, metrics?: { registry?: Registry; front: string }) {
    this.front = new SmtpFront(settings, this, loggerContext, metrics);
  }

  get port(): number {
    return this.front.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.front.listen();
  }

  async onModuleDestroy(): Promise<void> {
    await this.front.drain();
  }

  abstract newTransaction(client: SmtpClient): T;
  abstract acceptRecipient(address: string, transaction: T, client: SmtpClient, envelopeFrom: string): Promise<void>;
  abstract receiveMessage(message: SmtpMessage, transaction: T, client: SmtpClient): Promise<SmtpReply>;
}
