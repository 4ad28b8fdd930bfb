import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { MessageRepository, VerdictCommitter, type Account, type Domain, type Message, type ScanTarget } from '@mailwarden/db';
import { pathDecision } from '@mailwarden/accounts';
import { MAX_PROCESSED_MARKS, processedOriginalOf, readProcessedMarks } from '@mailwarden/delivery';
import { SenderChecksService } from '@mailwarden/sender-checks';
import { evaluateMessage, type MessageEvaluation } from './evaluate-message';
import { ScanContextCache } from './scan-context.cache';
import { ScanMetrics } from './scan-metrics';
import { quarantineExpiry } from './quarantine-retention';
import { MessageNotFoundError, TransientScanError } from './scan.errors';

/** The account's verified domains whose journal copies are scanned (libs/accounts `pathDecision`): the one place that decides it. */
function journalScanDomains(account: Account & { domains: Domain[] }): Domain[] {
  return account.domains.filter((domain) => domain.verificationStatus === 'VERIFIED' && pathDecision({ ...domain, account }, { path: 'JOURNAL' }).accept);
}

/** Whether a verified domain of these recipients takes no journal copies in the account as given. */
function refusesJournalCopy(account: Account & { domains: Domain[] }, recipients: readonly string[]): boolean {
  const scanned = new Set(journalScanDomains(account).map((domain) => domain.name.toLowerCase()));
  const verified = account.domains.filter((domain) => domain.verificationStatus === 'VERIFIED').map((domain) => domain.name.toLowerCase());
  return recipients.some((recipient) => {
    const name = recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase();
    return verified.includes(name) && !scanned.has(name);
  });
}

export enum ScanOutcome {
  Scanned = 'scanned',
  Skipped = 'skipped',
  /** A redelivered job: the verdicts were already recorded (BullMQ is at-least-once). */
  AlreadyScanned = 'already-scanned',
  /** The scan failed MAX_SCAN_ATTEMPTS times: the message is FAILED with the reason, and never retried. */
  Failed = 'failed',
}

/**
 * Scan attempts a message gets (errors and worker deaths alike) before it is FAILED. Below the scan job's own
 * attempts (8), so the job is never what gives up; the sweeper re-queues a PENDING message whose job failed, and
 * the count in the database, not the job's, ends that.
 */
export const MAX_SCAN_ATTEMPTS = 5;

/**
 * Scans one stored message and records its verdicts (the scan job of DESIGN.md §3). Idempotent: the verdicts and
 * the scanned mark commit in one transaction that only a PENDING message can take.
 */
@Injectable()
export class ScanMessageService {
  private readonly logger = new Logger(ScanMessageService.name);
  private readonly metrics: ScanMetrics;

  constructor(
    private readonly messages: MessageRepository,
    /** The group commit of the scans' verdicts and attempt counts (libs/db): one statement for concurrent scans. */
    private readonly committer: VerdictCommitter,
    private readonly context: ScanContextCache,
    private readonly senderChecks: SenderChecksService,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.metrics = new ScanMetrics(registry);
  }

  /**
   * @param options.finalAttempt on the last retry a DNS temperror is recorded as it stands (a result, not a
   *   failure) instead of throwing, so a message never waits forever on a resolver that does not answer.
   *
   * Every attempt is counted in the database before the scan starts. Past {@link MAX_SCAN_ATTEMPTS} (the scan
   * threw each time, or the worker died during it: out of memory, kill -9) the message becomes FAILED with the
   * reason and a `scan.failed` log event, so one message can never keep the workers busy for ever.
   */
  async scan(messageId: string, options: { finalAttempt?: boolean } = {}): Promise<{ outcome: ScanOutcome; evaluation?: MessageEvaluation }> {
    const loaded = await this.messages.startScan(messageId);
    if (!loaded) {
      throw new MessageNotFoundError(messageId);
    }
    const { message, raw, attempt } = loaded;
    if (message.scanStatus !== 'PENDING' || !attempt) {
      if (message.scanStatus !== 'PENDING' && attempt) {
        // Scan state left by a writer that ended the scan without it: not the sweeper's to queue again.
        await this.messages.forgetScanState(message.id);
      }
      this.metrics.scanEnded(message.source, 'already-scanned');
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    this.metrics.scanStarted(message.source, 'queue');
    return this.runAttempt(message, raw, attempt, options);
  }

  /**
   * {@link scan} of a message the caller has just stored and still holds (the journal ingest, right after its commit):
   * the same attempt counting, evaluation and verdict statement, without reading the row and its raw bytes back from
   * PostgreSQL. `message` must be the stored row's columns (libs/db `storedScanTarget`) and `raw` its stored bytes.
   * The attempt is counted with those of the process's concurrent scans, in one statement (`VerdictCommitter`), or
   * was counted by the store itself (`attemptCounted`: stored with `scanAttemptCounted` moments ago, so it is the
   * first): no statement then; a message another scan ended meanwhile is simply not claimed by the verdict write.
   * Throws as {@link scan} does when the attempt fails and may be retried (the caller queues the scan job then).
   */
  async scanStored(message: ScanTarget, raw: Buffer, options: { finalAttempt?: boolean; attemptCounted?: boolean } = {}): Promise<{ outcome: ScanOutcome; evaluation?: MessageEvaluation }> {
    const attempt = options.attemptCounted ? { attempts: 1, lastError: null } : await this.committer.countAttempt(message.id);
    if (!attempt) {
      // No scan state row: the message is not PENDING (another scan ended it) or does not exist.
      this.metrics.scanEnded(message.source, 'already-scanned');
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    this.metrics.scanStarted(message.source, 'inline');
    return this.runAttempt(message, raw, attempt, options);
  }

  /**
   * Releases the attempt a copy was stored with (`scanAttemptCounted`) when no scan used it: the storing process handed
   * it to the scan queue unscanned, whose worker counts its own. Batched with the process's other attempt counts.
   */
  async releaseCountedAttempt(messageId: string): Promise<void> {
    await this.committer.releaseAttempt(messageId);
  }

  /** One counted attempt of a PENDING message: FAILED past the limit, else evaluated and its verdicts written. */
  private async runAttempt(
    message: ScanTarget,
    raw: Buffer | null,
    attempt: { attempts: number; lastError: string | null },
    options: { finalAttempt?: boolean },
  ): Promise<{ outcome: ScanOutcome; evaluation?: MessageEvaluation }> {
    if (attempt.attempts > MAX_SCAN_ATTEMPTS) {
      const reason = `scan did not complete in ${MAX_SCAN_ATTEMPTS} attempts: ${attempt.lastError ?? 'the worker stopped during the scan (crash or out of memory)'}`;
      return this.fail(message, reason, attempt.attempts);
    }
    const lastAttempt = options.finalAttempt || attempt.attempts >= MAX_SCAN_ATTEMPTS;
    try {
      return await this.scanLoaded(message, raw, lastAttempt);
    } catch (error) {
      if (error instanceof MessageNotFoundError) {
        // Nothing to scan, now or later: the message ends here rather than being swept back for ever.
        return this.fail(message, error.message, attempt.attempts);
      }
      if (lastAttempt) {
        return this.fail(message, `scan failed ${attempt.attempts} times: ${(error as Error).message}`, attempt.attempts);
      }
      await this.messages.recordScanError(message.id, (error as Error).message).catch(() => undefined);
      this.metrics.scanEnded(message.source, 'retry');
      throw error;
    }
  }

  private async fail(message: Pick<Message, 'id' | 'accountId' | 'source'>, reason: string, attempts: number): Promise<{ outcome: ScanOutcome }> {
    if (!(await this.messages.markScanFailed(message.id, reason))) {
      this.metrics.scanEnded(message.source, 'already-scanned');
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    this.metrics.scanEnded(message.source, 'failed');
    this.logger.error({ event: 'scan.failed', messageId: message.id, accountId: message.accountId, attempts, reason });
    return { outcome: ScanOutcome.Failed };
  }

  private async scanLoaded(message: ScanTarget, raw: Buffer | null, finalAttempt: boolean): Promise<{ outcome: ScanOutcome; evaluation?: MessageEvaluation }> {
    if (!raw) {
      throw new MessageNotFoundError(message.id, 'its raw content is missing');
    }
    let account = await this.context.loadAccount(message.accountId);
    if (account && message.source === 'JOURNAL' && refusesJournalCopy(account, message.envelopeTo)) {
      // A journal copy is never skipped on a kept mode: a mode migration may have opened the overlap window within
      // the cache's few seconds (the copy was accepted on a fresh lookup). Rare: such copies are refused at RCPT.
      account = await this.context.loadAccount(message.accountId, { fresh: true });
    }
    if (!account) {
      throw new MessageNotFoundError(message.id, 'its account is gone');
    }
    const evaluated = this.metrics.startEvaluation(message.source);
    const evaluation = await this.evaluate(message, account, raw);
    evaluated();
    if (evaluation.temporaryError && !finalAttempt) {
      throw new TransientScanError(`DNS temperror in ${evaluation.senderReports.flatMap((report) => report.temporaryErrorChecks).join(', ')}`);
    }
    // Written with the verdicts of the process's concurrent scans, in one statement (`VerdictCommitter`).
    const { alreadyScanned } = await this.committer.save({
      message,
      verdicts: evaluation.verdicts.map((verdict) => ({
        ...verdict,
        quarantineReason: (verdict.reasons as Array<{ detail?: string }>)[0]?.detail ?? null,
      })),
      status: evaluation.status,
      quarantineExpiresAt: quarantineExpiry(),
    });
    if (alreadyScanned) {
      this.metrics.scanEnded(message.source, 'already-scanned');
      return { outcome: ScanOutcome.AlreadyScanned };
    }
    this.metrics.scanEnded(message.source, evaluation.status === 'SKIPPED' ? 'skipped' : 'scanned');
    this.metrics.verdictsCommitted(message.source, evaluation.verdicts);
    this.logger.log({
      event: 'scan.completed',
      messageId: message.id,
      status: evaluation.status,
      recipients: evaluation.verdicts.length,
      // A bounded sample: a log line must not grow with a 10,000-recipient list.
      actions: evaluation.verdicts.slice(0, 20).map((verdict) => `${verdict.recipient}:${verdict.decidedAction}`),
      enforced: evaluation.verdicts[0]?.enforced ?? false,
    });
    return { outcome: evaluation.status === 'SKIPPED' ? ScanOutcome.Skipped : ScanOutcome.Scanned, evaluation };
  }

  /**
   * Whether the message is a copy of one this account already processed: a mark counts only when the copy IS the
   * message it names (same account, Message-ID and body; libs/delivery `processedOriginalOf`). A replayed or forged
   * mark is logged and ignored.
   */
  private async processedByThisAccount(message: Pick<Message, 'id'>, raw: Buffer, accountId: string): Promise<boolean> {
    const check = await processedOriginalOf(raw, readProcessedMarks(raw).slice(0, MAX_PROCESSED_MARKS), accountId, (id) => this.messages.findMarkedOriginal(id));
    for (const mismatch of check.mismatches) {
      this.logger.warn({ event: 'scan.processed_mark_mismatch', messageId: message.id, accountId, markedMessageId: mismatch.messageId, reason: mismatch.reason });
    }
    return check.originalId !== null;
  }

  private async evaluate(message: ScanTarget, account: Account & { domains: Domain[] }, raw: Buffer): Promise<MessageEvaluation> {
    const verified = account.domains.filter((domain) => domain.verificationStatus === 'VERIFIED');
    const recipients = message.envelopeTo;
    const journal = message.source === 'JOURNAL';
    if (journal && (await this.processedByThisAccount(message, raw, account.id))) {
      // The copy of a message the gateway or mailflow path already scanned (it is the message its mark names):
      // while a domain moves between modes both paths see it, and it is scanned once (DESIGN.md §2).
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
    const policyContext = await this.context.policyContext(account, verified, [...recipients, message.envelopeFrom]);
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
        scanDomains: journal ? journalScanDomains(account).map((domain) => domain.name) : undefined,
        // Journal copies are only watched: nothing is ever applied to them (DESIGN.md §2, §3).
        enforced: message.source !== 'JOURNAL' && !account.monitorOnly,
        policyContext,
      },
      (input) => this.senderChecks.check(input),
    );
  }
}
