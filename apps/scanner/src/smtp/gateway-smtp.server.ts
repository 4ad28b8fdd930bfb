import type { TLSSocket } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { formatReply, normalizeClientIp, type SmtpReply } from '@mailwarden/delivery';
import { ClientLimits, closeSlowClients, loadOrGenerateTlsKeyPair } from '@mailwarden/smtp';
import { GatewayIntakeService, type GatewayTransaction } from './gateway-intake.service';
import { GATEWAY_SMTP_TUNING, type GatewaySmtpTuning } from './gateway-smtp.options';

type SmtpError = Error & { responseCode?: number };

function smtpError(reply: SmtpReply): SmtpError {
  const error: SmtpError = new Error(formatReply(reply));
  error.responseCode = reply.code;
  return error;
}

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
 * The gateway / mailflow SMTP front (DESIGN.md §3) on SCANNER_SMTP_PORT. Protocol concerns live here: size,
 * connection and rate limits, STARTTLS, the `error` listener, graceful shutdown; the decisions are
 * GatewayIntakeService's. smtp-server ends DATA only on CRLF.CRLF, so a bare-LF "smuggled" end of data never
 * splits a message here (DESIGN.md §10); the bytes are normalised before anything is stored or relayed.
 */
@Injectable()
export class GatewaySmtpServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GatewaySmtpServer.name);
  private readonly transactions = new Map<string, GatewayTransaction>();
  private readonly limits: ClientLimits;
  /** Sessions whose connection was counted against their client's limit (released at close). */
  private readonly counted = new Set<string>();
  private server?: SMTPServer;
  private closing = false;
  private inFlight = 0;
  port = 0;

  constructor(
    private readonly intake: GatewayIntakeService,
    @Inject(APP_CONFIG) private readonly config: ScannerConfig,
    @Inject(GATEWAY_SMTP_TUNING) private readonly tuning: GatewaySmtpTuning,
  ) {
    // The per-client limits shared with the journal ingest (libs/smtp): 421 at connect, 451 at MAIL FROM.
    this.limits = new ClientLimits({
      maxConnectionsPerClient: config.SMTP_MAX_CONNECTIONS_PER_CLIENT,
      maxMessagesPerMinutePerClient: config.SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // The shared helper (libs/smtp): the configured PEM files, or a certificate generated at start; never
    // smtp-server's built-in one, whose private key is public.
    const tls = loadOrGenerateTlsKeyPair({ keyFile: this.config.SMTP_TLS_KEY_FILE, certFile: this.config.SMTP_TLS_CERT_FILE, hostname: this.config.SMTP_HOSTNAME });
    if (tls.source === 'generated') {
      this.logger.warn({ event: 'smtp.tls_self_signed', detail: 'SMTP_TLS_KEY_FILE/SMTP_TLS_CERT_FILE not set: STARTTLS uses a certificate generated at start' });
    }
    this.server = new SMTPServer({
      key: tls.key,
      cert: tls.cert,
      ...(this.tuning.tlsClientCa ? { ca: this.tuning.tlsClientCa } : {}),
      name: this.config.SMTP_HOSTNAME,
      banner: 'Mailwarden gateway',
      size: this.config.SMTP_MAX_MESSAGE_SIZE,
      maxClients: this.config.SMTP_MAX_CONNECTIONS,
      // DESIGN.md §10: a reverse lookup per connection stalls the front where no resolver answers.
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH'],
      socketTimeout: this.config.SMTP_SOCKET_TIMEOUT_MS,
      closeTimeout: this.tuning.drainTimeoutMs,
      // Ask for a client certificate (Microsoft 365 connectors present one) without requiring it; only a chain that
      // verifies counts for connector recognition.
      requestCert: true,
      rejectUnauthorized: false,
      logger: false,
      onConnect: (session, callback) => this.onConnect(session, callback),
      onSecure: (socket, session, callback) => {
        this.transaction(session).tlsCertNames = certificateNames(socket as TLSSocket);
        this.transaction(session).tls = true;
        callback();
      },
      onMailFrom: (_address, session, callback) => this.onMailFrom(session, callback),
      onRcptTo: (address, session, callback) => void this.onRcptTo(address.address, session, callback),
      onData: (stream, session, callback) => void this.onData(stream, session, callback),
      onClose: (session) => {
        this.transactions.delete(session.id);
        if (this.counted.delete(session.id)) {
          this.limits.releaseConnection(normalizeClientIp(session.remoteAddress));
        }
      },
    });
    // The idle timeout alone lets a client trickling a byte a second hold its connection for ever (slow-loris).
    closeSlowClients(this.server, this.config.SMTP_SOCKET_TIMEOUT_MS);
    // DESIGN.md §10: a client reset during DATA is an `error` event; without a listener the process exits.
    this.server.on('error', (error: Error) => this.logger.warn({ event: 'smtp.error', error: error.message }));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.config.SCANNER_SMTP_PORT, this.config.HOST, () => {
        this.server!.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.server.address() as { port: number }).port;
    this.logger.log({ event: 'smtp.listening', host: this.config.HOST, port: this.port });
  }

  /**
   * Graceful shutdown (zone-mta's pattern, STYLE.md §6): new sessions and new transactions get 421, the messages
   * in flight finish (up to drainTimeoutMs), then the listener closes. Runs in onModuleDestroy: Nest destroys this
   * module before the global DbModule and QueueModule, so the messages in flight can still be committed.
   */
  async onModuleDestroy(): Promise<void> {
    if (!this.server) {
      return;
    }
    this.closing = true;
    const deadline = Date.now() + this.tuning.drainTimeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.logger.log({ event: 'smtp.closed', unfinished: this.inFlight });
    this.server = undefined;
  }

  private transaction(session: SMTPServerSession): GatewayTransaction {
    let transaction = this.transactions.get(session.id);
    if (!transaction) {
      transaction = { clientIp: normalizeClientIp(session.remoteAddress), helo: null, tls: false, tlsCertNames: [] };
      this.transactions.set(session.id, transaction);
    }
    return transaction;
  }

  private onConnect(session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    if (this.closing) {
      return callback(smtpError({ code: 421, enhanced: '4.3.2', text: `${this.config.SMTP_HOSTNAME} is shutting down, try again later` }));
    }
    const transaction = this.transaction(session);
    const refused = this.limits.acquireConnection(transaction.clientIp);
    if (refused) {
      this.logger.warn({ event: 'smtp.connection_limited', clientIp: transaction.clientIp });
      return callback(refused);
    }
    this.counted.add(session.id);
    callback();
  }

  private onMailFrom(session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    if (this.closing) {
      return callback(smtpError({ code: 421, enhanced: '4.3.2', text: `${this.config.SMTP_HOSTNAME} is shutting down, try again later` }));
    }
    const transaction = this.transaction(session);
    const limited = this.limits.countMessage(transaction.clientIp);
    if (limited) {
      this.logger.warn({ event: 'smtp.rate_limited', clientIp: transaction.clientIp });
      return callback(limited);
    }
    // A new transaction (RFC 5321 4.1.4: MAIL starts one): the recipients' tenant is decided anew.
    transaction.account = undefined;
    transaction.fromConnector = undefined;
    transaction.mailflow = undefined;
    transaction.helo = session.hostNameAppearsAs || null;
    callback();
  }

  private async onRcptTo(address: string, session: SMTPServerSession, callback: (error?: Error | null) => void): Promise<void> {
    try {
      const decision = await this.intake.checkRecipient(this.transaction(session), address);
      if (!decision.accept) {
        this.logger.log({ event: 'smtp.recipient_refused', recipient: address, clientIp: session.remoteAddress, code: decision.reply.code });
        return callback(smtpError(decision.reply));
      }
      callback();
    } catch (error) {
      this.logger.error({ event: 'smtp.recipient_check_failed', error: (error as Error).message });
      callback(smtpError({ code: 451, enhanced: '4.3.0', text: 'Temporary failure, try again later' }));
    }
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void): Promise<void> {
    this.inFlight++;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) {
        // Past the size limit the rest is read and dropped, not kept in memory.
        if (!stream.sizeExceeded) {
          chunks.push(chunk as Buffer);
        }
      }
      if (stream.sizeExceeded) {
        // RFC 1870 / RFC 3463: 552 5.3.4 message too big for system.
        return callback(smtpError({ code: 552, enhanced: '5.3.4', text: `Message exceeds the size limit of ${this.config.SMTP_MAX_MESSAGE_SIZE} bytes` }));
      }
      const { envelope } = session;
      const from = envelope.mailFrom ? envelope.mailFrom.address : '';
      const recipients = envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
      const result = await this.intake.receive(this.transaction(session), from, recipients, Buffer.concat(chunks));
      if (result.reply.code >= 400) {
        return callback(smtpError(result.reply));
      }
      callback(null, formatReply(result.reply));
    } catch (error) {
      this.logger.error({ event: 'smtp.data_failed', error: (error as Error).message });
      callback(smtpError({ code: 451, enhanced: '4.3.0', text: 'Temporary failure, try again later' }));
    } finally {
      this.inFlight--;
    }
  }
}
