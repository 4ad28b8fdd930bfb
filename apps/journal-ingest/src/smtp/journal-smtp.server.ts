import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type JournalIngestConfig } from '@mailwarden/config';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { AccountRepository } from '@mailwarden/db';
import { ipInRanges } from '@mailwarden/delivery';
import { LookupCache, smtpError, smtpFrontSettings, SmtpFrontService, SmtpReplyError, type SmtpClient, type SmtpMessage, type SmtpReply } from '@mailwarden/smtp';
import { IngestService, type JournalAccount } from '../ingest/ingest.service';

/** The accounts the current transaction's recipients name (one stored copy each). */
type JournalTransaction = Map<string, JournalAccount>;

/**
 * The journal ingest's SMTP listener (DESIGN.md §3), a plug-in of the shared front (libs/smtp `SmtpFrontService`,
 * which owns the protocol, the limits and the drain in onModuleDestroy, before Prisma disconnects). The recipient
 * names the tenant (`<journal token>@<JOURNAL_DOMAIN>`); the 250 is sent only after the message is committed; anything it cannot take is answered 4xx (retry) or 5xx with
 * the reason, so a copy is never dropped silently. It never delivers, rejects or changes the original mail.
 */
@Injectable()
export class JournalSmtpServer extends SmtpFrontService<JournalTransaction> {
  private readonly logger = new Logger(JournalSmtpServer.name);
  /** The account of a journal token, reused for 5 s: a change of its source ranges or TLS rule applies within that. */
  private readonly accountLookups = new LookupCache<JournalAccount | null>(5_000);

  constructor(
    @Inject(APP_CONFIG) private readonly config: JournalIngestConfig,
    private readonly accounts: AccountRepository,
    private readonly ingest: IngestService,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    super(smtpFrontSettings(config, { banner: 'Mailwarden journal ingest', port: config.JOURNAL_SMTP_PORT, drainTimeoutMs: 30_000 }), 'JournalSmtpFront', {
      registry,
      front: 'journal',
    });
  }

  /**
   * Graceful shutdown: the SMTP front drains first (no copy arrives after it), then the scans of the copies it stored
   * end or go to the queue, all before Nest destroys the global DbModule and QueueModule.
   */
  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await this.ingest.drainScans();
  }

  newTransaction(): JournalTransaction {
    return new Map();
  }

  async acceptRecipient(address: string, transaction: JournalTransaction, client: SmtpClient): Promise<void> {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at).toLowerCase();
    const domain = address.slice(at + 1).toLowerCase();
    if (at < 1 || domain !== this.config.JOURNAL_DOMAIN.toLowerCase()) {
      throw smtpError(550, '5.1.1', `<${address}>: not a Mailwarden journal address`);
    }
    let account: JournalAccount | null;
    try {
      account = await this.accountLookups.get(local, () => this.accounts.findByJournalToken(local));
    } catch (error) {
      this.logger.error({ event: 'journal.lookup_failed', error: (error as Error).message });
      throw smtpError(451, '4.3.0', 'Temporary failure looking up the journal address, try again later');
    }
    if (!account) {
      throw smtpError(550, '5.1.1', `<${address}>: unknown journal address`);
    }
    if (account.journalSourceIps.length > 0 && !ipInRanges(client.clientIp, account.journalSourceIps)) {
      throw smtpError(550, '5.7.1', `<${address}>: journal copies for this account are not accepted from ${client.clientIp}`);
    }
    if (account.journalRequireTls && !client.secure) {
      throw smtpError(530, '5.7.0', `<${address}>: this account requires STARTTLS for journal copies`);
    }
    transaction.set(account.id, account);
  }

  async receiveMessage(message: SmtpMessage, transaction: JournalTransaction, client: SmtpClient): Promise<SmtpReply> {
    let stored;
    try {
      stored = await this.ingest.ingest({
        raw: message.raw,
        accounts: [...transaction.values()],
        envelopeSender: message.envelopeFrom,
        clientIp: client.clientIp,
        secure: client.secure,
      });
    } catch (error) {
      if (error instanceof SmtpReplyError) {
        throw error;
      }
      // Storage is down or failed: 4xx, so the journaling sender retries; nothing was acknowledged.
      this.logger.error({ event: 'journal.store_failed', error: (error as Error).message });
      return { code: 451, enhanced: '4.3.0', text: 'Temporary storage failure, try again later' };
    }
    // Starts no scan before this reply is written (PostCommitScans): the 250 never waits for a scan.
    this.ingest.enqueueScans(stored.stored);
    return { code: 250, enhanced: '2.0.0', text: `Stored as ${stored.stored.map((entry) => entry.messageId).join(', ')}` };
  }
}
