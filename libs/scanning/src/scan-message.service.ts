import { Injectable, Logger } from '@nestjs/common';
import { MessageRepository, type Account, type Domain, type Message } from '@mailwarden/db';
import { pathDecision } from '@mailwarden/accounts';
import { MAX_PROCESSED_MARKS, readProcessedMarks } from '@mailwarden/delivery';
import { SenderChecksService } from '@mailwarden/sender-checks';
import { evaluateMessage, type MessageEvaluation } from './evaluate-message';
import { ScanContextCache } from './scan-context.cache';
import { MessageNotFoundError, TransientScanError } from './scan.errors';

export enum ScanOutcome {
  Scanned = 'scanned',
  Skipped = 'skipped',
  /** A redelivered job: the verdicts were already recorded (BullMQ is at-least-once). */
  AlreadyScanned = 'already-scanned',
}

const QUARANTINE_RETENTION_DAYS = 30;

/**
 * Scans one stored message and records its verdicts (the scan job of DESIGN.md §3). Idempotent: the verdicts and
 * the scanned mark commit in one transaction that only a PENDING message can take.
 */
@Injectable()
export class ScanMessageService {
  private readonly logger = new Logger(ScanMessageService.name);

  constructor(
    private readonly messages: MessageRepository,
    private readonly context: ScanContextCache,
    private readonly senderChecks: SenderChecksService,
  ) {}

  /**
   * @param options.finalAttempt on the last retry a DNS temperror is recorded as it stands (a result, not a
   *   failure) instead of throwing, so a message never waits forever on a resolver that does not answer.
   */
  async scan(messageId: string, options: { finalAttempt?: boolean } = {}): Promise<{ outcome: ScanOutcome; evaluation?: MessageEvaluation }> {
    const loaded = await this.messages.loadForScan(messageId);
    if (!loaded) {
      throw new MessageNotFoundError(messageId);
    }
    const { message, raw } = loaded;
    if (message.scanStatus !== 'PENDING') {
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    if (!raw) {
      throw new MessageNotFoundError(message.id, 'its raw content is missing');
    }
    const account = await this.context.loadAccount(message.accountId);
    if (!account) {
      throw new MessageNotFoundError(message.id, 'its account is gone');
    }
    const evaluation = await this.evaluate(message, account, raw);
    if (evaluation.temporaryError && !options.finalAttempt) {
      throw new TransientScanError(`DNS temperror in ${evaluation.senderReports.flatMap((report) => report.temporaryErrorChecks).join(', ')}`);
    }
    const { alreadyScanned } = await this.messages.saveVerdicts(
      message,
      evaluation.verdicts.map((verdict) => ({
        ...verdict,
        quarantineReason: (verdict.reasons as Array<{ detail?: string }>)[0]?.detail ?? null,
      })),
      evaluation.status,
      { quarantineExpiresAt: new Date(Date.now() + QUARANTINE_RETENTION_DAYS * 86_400_000) },
    );
    if (alreadyScanned) {
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    this.logger.log({
      event: 'scan.completed',
      messageId,
      status: evaluation.status,
      actions: evaluation.verdicts.map((verdict) => `${verdict.recipient}:${verdict.decidedAction}`),
      enforced: evaluation.verdicts[0]?.enforced ?? false,
    });
    return { outcome: evaluation.status === 'SKIPPED' ? ScanOutcome.Skipped : ScanOutcome.Scanned, evaluation };
  }

  /** Whether the message carries a processed mark naming a message of this account (a forged mark names none). */
  private async processedByThisAccount(raw: Buffer, accountId: string): Promise<boolean> {
    for (const mark of readProcessedMarks(raw).slice(0, MAX_PROCESSED_MARKS)) {
      const owner = await this.messages.findOwner(mark.messageId).catch(() => null);
      if (owner?.accountId === accountId) {
        return true;
      }
    }
    return false;
  }

  private async evaluate(message: Message, account: Account & { domains: Domain[] }, raw: Buffer): Promise<MessageEvaluation> {
    const verified = account.domains.filter((domain) => domain.verificationStatus === 'VERIFIED');
    const recipients = message.envelopeTo;
    const journal = message.source === 'JOURNAL';
    if (journal && (await this.processedByThisAccount(raw, account.id))) {
      // The copy of a message the gateway or mailflow path already scanned (its mark names a message of this
      // account): while a domain moves between modes both paths see it, and it is scanned once (DESIGN.md §2).
      const enforced = false;
      const verdicts = [...new Set(recipients.map((recipient) => recipient.toLowerCase()))].map((recipient) => ({
        recipient,
        checks: [],
        decidedAction: 'DELIVER' as const,
        appliedAction: null,
        enforced,
        reasons: [],
        skippedReason: 'already-processed',
      }));
      return { verdicts, status: 'SKIPPED', senderReports: [], temporaryError: false, temporaryErrorMayReject: false };
    }
    const [policies, mailboxes] = await Promise.all([
      this.context.loadPolicies(account.id, account.partnerId),
      this.context.findMailboxes(account.id, [...recipients, message.envelopeFrom]),
    ]);
    return evaluateMessage(
      {
        raw,
        direction: message.direction,
        envelopeFrom: message.envelopeFrom,
        envelopeTo: recipients,
        headerFrom: message.headerFrom,
        clientIp: message.clientIp,
        helo: message.helo,
        accountDomains: verified.map((domain) => domain.name),
        scanDomains: journal ? verified.filter((domain) => pathDecision({ ...domain, account }, { path: 'JOURNAL' }).accept).map((domain) => domain.name) : undefined,
        // Journal copies are only watched: nothing is ever applied to them (DESIGN.md §2, §3).
        enforced: message.source !== 'JOURNAL' && !account.monitorOnly,
        policyContext: {
          accountId: account.id,
          partnerId: account.partnerId,
          domainIds: new Map(verified.map((domain) => [domain.name, domain.id])),
          mailboxes,
          policies,
        },
      },
      (input) => this.senderChecks.check(input),
    );
  }
}
