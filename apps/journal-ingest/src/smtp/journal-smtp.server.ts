import { BlockList, isIP } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { APP_CONFIG, type JournalIngestConfig } from '@mailwarden/config';
import { AccountRepository } from '@mailwarden/db';
import { ClientLimits, closeSlowClients, loadOrGenerateTlsKeyPair, LookupCache, SmtpReplyError, smtpError, SmtpTransactions } from '@mailwarden/smtp';
import { IngestService, type JournalAccount } from '../ingest/ingest.service';

type Callback = (error?: Error | null, message?: string) => void;

function readBody(stream: SMTPServerDataStream): Promise<{ raw: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve({ raw: Buffer.concat(chunks), tooLarge: stream.sizeExceeded === true }));
  });
}

function allowsAddress(ranges: readonly string[], address: string): boolean {
  if (ranges.length === 0) {
    return true;
  }
  const list = new BlockList();
  for (const range of ranges) {
    const [network, prefix] = range.split('/');
    const family = isIP(network ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) {
      list.addAddress(network!, family);
    } else {
      list.addSubnet(network!, Number(prefix), family);
    }
  }
  const plain = address.replace(/^::ffff:/i, '');
  return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The journal ingest's SMTP listener (DESIGN.md §3). The recipient names the tenant (`<journal token>@<JOURNAL_DOMAIN>`);
 * the 250 is sent only after the message is committed; anything it cannot take is answered 4xx (retry) or 5xx with
 * the reason, so a copy is never dropped silently. It never delivers, rejects or changes the original mail.
 */
@Injectable()
export class JournalSmtpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JournalSmtpServer.name);
  private readonly limits: ClientLimits;
  /** The accounts the current transaction's recipients name: reset by MAIL, RSET, EHLO/HELO, STARTTLS and every DATA reply. */
  private readonly transactions = new SmtpTransactions<Map<string, JournalAccount>>(() => new Map());
  /** The account of a journal token, reused for 5 s: a change of its source ranges or TLS rule applies within that. */
  private readonly accountLookups = new LookupCache<JournalAccount | null>(5_000);
  private server?: SMTPServer;
  private closing = false;
  port = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: JournalIngestConfig,
    private readonly accounts: AccountRepository,
    private readonly ingest: IngestService,
  ) {
    this.limits = new ClientLimits({
      maxConnectionsPerClient: config.SMTP_MAX_CONNECTIONS_PER_CLIENT,
      maxMessagesPerMinutePerClient: config.SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const tls = loadOrGenerateTlsKeyPair({
      keyFile: this.config.SMTP_TLS_KEY_FILE,
      certFile: this.config.SMTP_TLS_CERT_FILE,
      hostname: this.config.SMTP_HOSTNAME,
    });
    if (tls.source === 'generated') {
      this.logger.warn({ event: 'smtp.tls_self_signed', detail: 'SMTP_TLS_KEY_FILE/SMTP_TLS_CERT_FILE not set: STARTTLS uses a certificate generated at start' });
    }
    this.server = new SMTPServer({
      key: tls.key,
      cert: tls.cert,
      name: this.config.SMTP_HOSTNAME,
      banner: 'Mailwarden journal ingest',
      size: this.config.SMTP_MAX_MESSAGE_SIZE,
      maxClients: this.config.SMTP_MAX_CONNECTIONS,
      socketTimeout: this.config.SMTP_SOCKET_TIMEOUT_MS,
      closeTimeout: 30_000,
      // A reverse lookup per connection stalls where no resolver answers (DESIGN.md §10).
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      onConnect: (session, callback) => this.onConnect(session, callback),
      onClose: (session) => this.onClose(session),
      onMailFrom: (_address, session, callback) => {
        const limited = this.limits.countMessage(session.remoteAddress);
        if (!limited) {
          this.transactions.begin(session);
        }
        callback(limited);
      },
      onRcptTo: (address, session, callback) => void this.onRcptTo(address, session).then(() => callback(), callback),
      onData: (stream, session, callback) => void this.onData(stream, session, callback),
    });
    // The idle timeout alone lets a client trickling a byte a second hold its connection for ever (slow-loris).
    closeSlowClients(this.server, this.config.SMTP_SOCKET_TIMEOUT_MS);
    // A client reset during DATA surfaces here; without a listener the process would exit (DESIGN.md §10).
    this.server.on('error', (error) => this.logger.warn({ event: 'smtp.error', error: error.message }));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.config.JOURNAL_SMTP_PORT, this.config.HOST, () => {
        this.server!.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.server.address() as { port: number }).port;
    this.logger.log({ event: 'smtp.listening', port: this.port, journalDomain: this.config.JOURNAL_DOMAIN });
  }

  /** New sessions get 421 while in-flight ones finish (zone-mta's `closing` flag). */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private onConnect(session: SMTPServerSession, callback: Callback): void {
    if (this.closing) {
      callback(smtpError(421, '4.3.2 Mailwarden journal ingest is shutting down, try again later'));
      return;
    }
    const refused = this.limits.acquireConnection(session.remoteAddress);
    if (refused) {
      (session as { mwRefused?: boolean }).mwRefused = true;
      callback(refused);
      return;
    }
    callback();
  }

  private onClose(session: SMTPServerSession): void {
    if (!(session as { mwRefused?: boolean }).mwRefused) {
      this.limits.releaseConnection(session.remoteAddress);
    }
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const at = address.address.lastIndexOf('@');
    const local = address.address.slice(0, at).toLowerCase();
    const domain = address.address.slice(at + 1).toLowerCase();
    if (at < 1 || domain !== this.config.JOURNAL_DOMAIN.toLowerCase()) {
      throw smtpError(550, `5.1.1 <${address.address}>: not a Mailwarden journal address`);
    }
    let account: JournalAccount | null;
    try {
      account = await this.accountLookups.get(local, () => this.accounts.findByJournalToken(local));
    } catch (error) {
      this.logger.error({ event: 'journal.lookup_failed', error: (error as Error).message });
      throw smtpError(451, '4.3.0 Temporary failure looking up the journal address, try again later');
    }
    if (!account) {
      throw smtpError(550, `5.1.1 <${address.address}>: unknown journal address`);
    }
    if (!allowsAddress(account.journalSourceIps, session.remoteAddress)) {
      throw smtpError(550, `5.7.1 <${address.address}>: journal copies for this account are not accepted from ${session.remoteAddress}`);
    }
    if (account.journalRequireTls && !session.secure) {
      throw smtpError(530, `5.7.0 <${address.address}>: this account requires STARTTLS for journal copies`);
    }
    this.transactions.current(session).set(account.id, account);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): Promise<void> {
    let body: { raw: Buffer; tooLarge: boolean };
    try {
      body = await readBody(stream);
    } catch (error) {
      callback(smtpError(451, `4.3.0 Error reading the message: ${(error as Error).message}`));
      return;
    }
    if (body.tooLarge) {
      callback(smtpError(552, `5.3.4 Message exceeds the size limit of ${this.config.SMTP_MAX_MESSAGE_SIZE} bytes`));
      return;
    }
    const accounts = [...this.transactions.current(session).values()];
    try {
      const result = await this.ingest.ingest({
        raw: body.raw,
        accounts,
        envelopeSender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        clientIp: session.remoteAddress,
        secure: session.secure,
      });
      callback(null, `2.0.0 Stored as ${result.stored.map((entry) => entry.messageId).join(', ')}`);
      this.ingest.enqueueScans(result.stored);
    } catch (error) {
      if (error instanceof SmtpReplyError) {
        callback(error);
        return;
      }
      // Storage is down or failed: 4xx, so the journaling sender retries; nothing was acknowledged.
      this.logger.error({ event: 'journal.store_failed', error: (error as Error).message });
      callback(smtpError(451, '4.3.0 Temporary storage failure, try again later'));
    }
  }
}
