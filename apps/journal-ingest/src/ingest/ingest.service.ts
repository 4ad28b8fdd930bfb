import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { decideDirection } from '@mailwarden/accounts';
import { IncomingCommitter, MessageMetrics, storedScanTarget, type Account, type Domain, type IncomingMessage } from '@mailwarden/db';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { findOriginHop, hasBareCrOrLf, JOURNAL_PARSE_REASON_TEXT, parseHeaderBlock, summarizeHeaderBlock, unwrapJournalMessage } from '@mailwarden/journal';
import type { ScanMessageJobData } from '@mailwarden/queue';
import type { StoredCopy } from '@mailwarden/scanning';
import { smtpError } from '@mailwarden/smtp';
import { PostCommitScans } from './post-commit-scans.service';

export type JournalAccount = Account & { domains: Domain[] };

/**
 * RFC 5321 4.5.3.1.3: a path is at most 256 octets with its angle brackets. A longer "recipient" in a journal report
 * cannot be a mailbox anyone delivers to, and would not fit the envelope recipients' index (a GIN entry holds at most
 * ~2.7 KB): it is left out of the envelope and recorded in the metadata instead of making every store fail.
 */
const MAX_ADDRESS_OCTETS = 254;

export interface JournalDelivery {
  raw: Buffer;
  accounts: JournalAccount[];
  /** MAIL FROM of the journal session (the provider's journaling sender), for Google copies without Return-Path. */
  envelopeSender: string;
  clientIp: string;
  secure: boolean;
}

export interface IngestResult {
  /** The message of each account; `copy` (its scan target and stored bytes) when this delivery stored it, not a duplicate. */
  stored: Array<ScanMessageJobData & { copy?: StoredCopy }>;
  duplicates: number;
}

/**
 * Turns one journal delivery into stored messages (one per account the journal address named): unwraps the
 * report, takes the report's recipients (Bcc included) as the envelope, classifies the direction against the
 * account's verified domains, and commits the original unaltered. Resolves only after the commit, so the SMTP
 * layer answers 250 after it; the scans run afterwards, in this process or from the scan queue (PostCommitScans; the
 * sweeper covers a crash in between).
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly metrics: MessageMetrics;

  constructor(
    private readonly committer: IncomingCommitter,
    private readonly scans: PostCommitScans,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.metrics = new MessageMetrics(registry);
  }

  async ingest(delivery: JournalDelivery): Promise<IngestResult> {
    const unwrapped = unwrapJournalMessage(delivery.raw, { envelopeSender: delivery.envelopeSender });
    if (unwrapped.kind === 'unrecognized') {
      this.logger.warn({ event: 'journal.refused', reason: unwrapped.reason, clientIp: delivery.clientIp });
      // RFC 3463 5.6.0: other or undefined media error. The text never echoes the input.
      throw smtpError(554, '5.6.0', `Not a journal report Mailwarden understands: ${JOURNAL_PARSE_REASON_TEXT[unwrapped.reason as keyof typeof JOURNAL_PARSE_REASON_TEXT] ?? unwrapped.reason}`);
    }
    const envelopeTo = unwrapped.envelopeRecipients.filter((address) => Buffer.byteLength(address) <= MAX_ADDRESS_OCTETS);
    const overlong = unwrapped.envelopeRecipients.length - envelopeTo.length;
    if (envelopeTo.length === 0) {
      throw smtpError(554, '5.6.0', overlong > 0 ? 'The journal report names no recipient address of a valid length' : 'The journal report names no recipients');
    }
    const original = unwrapped.original;
    // One parse of the original's header section for its summary and its origin hop.
    const originalHeaders = parseHeaderBlock(original);
    const headers = summarizeHeaderBlock(originalHeaders);
    const origin = findOriginHop(original, originalHeaders);
    const result: IngestResult = { stored: [], duplicates: 0 };
    for (const account of delivery.accounts) {
      const verified = account.domains.filter((domain) => domain.verificationStatus === 'VERIFIED').map((domain) => domain.name);
      // The provider's inbound edge hop is the evidence that the message came from outside (DESIGN.md §2).
      const decision = decideDirection(
        verified,
        unwrapped.sender,
        envelopeTo,
        origin ? { enteredFromOutside: true, basis: 'provider-edge-hop', detail: origin.received } : { enteredFromOutside: false, basis: 'no-provider-edge-hop' },
      );
      const direction = decision.direction;
      // Group commit: this copy shares its transaction with those of concurrent sessions (IncomingCommitter).
      const incoming: IncomingMessage = {
        accountId: account.id,
        source: 'JOURNAL',
        direction,
        envelopeFrom: unwrapped.sender ?? '',
        envelopeTo,
        headerFrom: headers.from,
        subject: headers.subject,
        messageIdHeader: headers.messageId ?? unwrapped.messageId,
        clientIp: origin?.clientIp ?? null,
        helo: origin?.helo ?? null,
        // Google sends one copy per recipient: the same Message-ID + recipient is the same copy (DESIGN.md §3).
        dedupKey: unwrapped.kind === 'google' && unwrapped.dedupKeys.length > 0 ? [...unwrapped.dedupKeys].sort().join('\n') : null,
        metadata: {
          direction: { ...decision },
          journal: {
            format: unwrapped.kind,
            recipients: JSON.parse(JSON.stringify(unwrapped.recipients)),
            journalClientIp: delivery.clientIp,
            journalTls: delivery.secure,
            originHop: origin?.received ?? null,
            bareLineEnds: hasBareCrOrLf(original),
            ...(overlong > 0 ? { overlongRecipients: overlong } : {}),
          },
        },
        // The original as received (a Google copy is the delivery itself, a Microsoft report's its decoded part): a
        // buffer of this delivery that nothing else writes, stored and scanned as it is, not copied.
        raw: original,
        // Scanned here first: the store counts that attempt (no statement of its own; a crash after the 250 leaves it counted).
        scanAttemptCounted: this.scans.countsAttemptAtStore,
      };
      const { message, duplicate } = await this.committer.store(incoming);
      this.metrics.committed('JOURNAL', duplicate);
      if (duplicate) {
        result.duplicates++;
      }
      result.stored.push({ messageId: message.id, accountId: account.id, copy: duplicate ? undefined : { target: storedScanTarget(message.id, incoming), raw: incoming.raw, attemptCounted: incoming.scanAttemptCounted } });
      this.logger.log({ event: 'journal.stored', messageId: message.id, accountId: account.id, format: unwrapped.kind, direction, duplicate });
    }
    return result;
  }

  /**
   * After the commit (the SMTP reply does not wait for this): each copy stored now is scanned in this process when
   * INGEST_INLINE_SCAN allows, else queued; a duplicate's job is queued again as before (jobId = message id, so
   * nothing is scanned twice at once). The sweeper covers a crash before any of it ends (DESIGN.md §3).
   */
  enqueueScans(stored: IngestResult['stored']): void {
    for (const { copy, ...job } of stored) {
      if (copy) {
        this.scans.scan(copy);
      } else {
        void this.scans.enqueue(job);
      }
    }
  }

  /** Graceful shutdown, after the SMTP front drained: the in-process scans end or are left to the queue. */
  drainScans(): Promise<void> {
    return this.scans.drain();
  }
}
