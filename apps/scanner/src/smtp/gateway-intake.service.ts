import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { acceptedPaths, decideDirection, isInScope, pathDecision } from '@mailwarden/accounts';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import {
  DeliveryRepository,
  MessageMetrics,
  MessageRepository,
  Microsoft365Repository,
  ProcessedCommitter,
  type DeliveryState,
  type GatewayDomain,
  type MailflowConnector,
  type MessageSource,
  type PolicyAction,
} from '@mailwarden/db';
import { headerValues, MAX_PROCESSED_MARKS, matchesConnector, processedOriginalOf, readProcessedMarks } from '@mailwarden/delivery';
import { LookupCache, rejectReply, temporaryAuthFailureReply, type SmtpReply } from '@mailwarden/smtp';
import { findOriginHop, hasBareCrOrLf, normalizeLineEnds, summarizeMessageHeaders } from '@mailwarden/journal';
import { DeliveryJob, JobQueues } from '@mailwarden/queue';
import { PostCommitDeliveries } from '../delivery/post-commit-deliveries.service';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { effectivePoliciesFor, evaluateMessage, quarantineExpiry, ScanContextCache, ScanMetrics, type EvaluatedVerdict, type MessageEvaluation, type PolicyScopeContext } from '@mailwarden/scanning';
import { SenderChecksService } from '@mailwarden/sender-checks';

/** What the front knows about one SMTP transaction once its recipients are accepted. */
export interface GatewayTransaction {
  clientIp: string;
  helo: string | null;
  tls: boolean;
  /** Verified names of the TLS client certificate (mailflow connector recognition). */
  tlsCertNames: string[];
  account?: GatewayDomain['account'];
  /** The session comes from the account's Microsoft 365 outbound connector. */
  fromConnector?: boolean;
  /** Some accepted recipient is in a MAILFLOW domain (the message is mailflow traffic). */
  mailflow?: boolean;
  /** Some accepted recipient is outside the account: the tenant's own connector relays outbound mail through us. */
  outbound?: boolean;
}

export type RecipientDecisionReply = { accept: true } | { accept: false; reply: SmtpReply };

export interface IntakeResult {
  reply: SmtpReply;
  messageId?: string;
}

/**
 * How long a recipient domain's routing facts (mode, verification, account, connector) are reused between RCPTs.
 * Short, so an admin's change (a domain leaving gateway mode, an account turning monitor-only) applies within
 * seconds, while a burst of mail for one domain does not cost two queries per recipient.
 */
const RECIPIENT_CACHE_MS = 5_000;
const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

const DELIVERY_STATE_FOR: Record<PolicyAction, DeliveryState> = {
  DELIVER: 'QUEUED',
  TAG_SUBJECT: 'QUEUED',
  QUARANTINE: 'QUARANTINED',
  REJECT: 'REJECTED',
};

/**
 * The decisions of the gateway / mailflow SMTP front (DESIGN.md §3), apart from the protocol: which recipients
 * are accepted (no open relay), and what a received message gets before the DATA reply (sender checks and
 * policy, storage, the delivery job).
 */
@Injectable()
export class GatewayIntakeService {
  private readonly logger = new Logger(GatewayIntakeService.name);
  private readonly recipientDomains = new LookupCache<{ domain: GatewayDomain | null; connector: MailflowConnector | null }>(RECIPIENT_CACHE_MS);
  private readonly scanMetrics: ScanMetrics;
  private readonly messageMetrics: MessageMetrics;
  /** The Microsoft 365 tenant id an account is connected to (null: none), for the outbound relay's origin check. */
  private readonly microsoft365Tenants = new LookupCache<string | null>(RECIPIENT_CACHE_MS);

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly messages: MessageRepository,
    private readonly context: ScanContextCache,
    private readonly senderChecks: SenderChecksService,
    private readonly queues: JobQueues,
    @Inject(APP_CONFIG) private readonly config: ScannerConfig,
    private readonly microsoft365: Microsoft365Repository,
    private readonly processed: ProcessedCommitter,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
    /** Present when this process runs the delivery role too (SCANNER_ROLE=all): what is stored is delivered here. */
    @Optional() private readonly postCommit?: PostCommitDeliveries,
  ) {
    this.scanMetrics = new ScanMetrics(registry);
    this.messageMetrics = new MessageMetrics(registry);
  }

  /**
   * RCPT TO: only verified domains whose mode (or transition) takes mail on this path are accepted (libs/accounts
   * `pathDecision`); a MAILFLOW domain only from its tenant's connector. Every other recipient is refused with
   * 5.7.1 (RFC 5321 3.6.2: no open relay), or 4.7.1 while the domain is moving between modes.
   */
  async checkRecipient(transaction: GatewayTransaction, address: string, envelopeFrom = ''): Promise<RecipientDecisionReply> {
    const refuse = (code: number, enhanced: string, text: string): RecipientDecisionReply => ({ accept: false, reply: { code, enhanced, text } });
    const name = domainOf(address);
    // DESIGN.md §2: the domain's mode (and, during a migration, its other mode) says which paths take its mail;
    // outside a transition anything else is a 5.7.1 (no open relay), during one a 4.7.1 so the sender retries.
    const decide = (facts: { domain: GatewayDomain | null; connector: MailflowConnector | null }) => {
      const fromConnector = !!facts.domain && matchesConnector({ clientIp: transaction.clientIp, tlsCertNames: transaction.tlsCertNames }, facts.connector);
      return { ...facts, fromConnector, decision: pathDecision(facts.domain, { path: 'SMTP', fromConnector }) };
    };
    let outcome = decide(await this.recipientDomain(name));
    if (!outcome.decision.accept && outcome.domain) {
      // The cached row may predate the migration step that opened this path (the overlap window): read it again
      // before refusing one of our own domains, so the window applies at once rather than after the cache expires.
      outcome = decide(await this.loadRecipientDomain(name));
    }
    const { domain, fromConnector, decision } = outcome;
    if (!decision.accept) {
      const relay = await this.outboundRelay(transaction, envelopeFrom);
      if (relay) {
        return relay;
      }
      return decision.reply === 'TEMPORARY'
        ? refuse(450, '4.7.1', `${name} ${decision.reason}; it is moving between modes, try again later`)
        : refuse(550, '5.7.1', `Relay access denied: ${name} ${decision.reason}`);
    }
    const served = domain!; // an accepted path implies a known domain
    if (transaction.account && transaction.account.id !== served.accountId) {
      // One transaction, one tenant: its policies and its copy of the message. RFC 5321 4.5.3.1.10: a client
      // sends the deferred recipients in a later transaction.
      return refuse(452, '4.5.3', 'Recipients of another organisation: send them in a separate transaction');
    }
    transaction.account = served.account;
    transaction.fromConnector = fromConnector;
    transaction.mailflow = transaction.mailflow || decision.path === 'MAILFLOW';
    return { accept: true };
  }

  /**
   * DATA: everything happens before the reply. Bare CR/LF are normalised (DESIGN.md §10), the sender checks and
   * policy decide per recipient, the message, verdicts and copies are committed, then the delivery job is
   * enqueued. A reject for every recipient is a 550 (never a bounce later); a DNS temperror that could reject is a
   * 451; a database failure is a 451 4.3.0 so the sender retries.
   */
  async receive(transaction: GatewayTransaction, envelopeFrom: string, recipients: string[], received: Buffer): Promise<IntakeResult> {
    const account = transaction.account;
    if (!account) {
      return { reply: { code: 503, enhanced: '5.5.1', text: 'No valid recipients' } };
    }
    const bareLineEnds = hasBareCrOrLf(received);
    const raw = bareLineEnds ? normalizeLineEnds(received) : received;
    if (transaction.outbound) {
      let refusal: SmtpReply | null;
      try {
        refusal = await this.outboundOriginRefusal(account.id, raw);
      } catch (error) {
        this.logger.error({ event: 'gateway.evaluation_failed', error: (error as Error).message });
        return { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary failure while checking the message, try again later' } };
      }
      if (refusal) {
        this.logger.warn({ event: 'gateway.relay_refused', accountId: account.id, clientIp: transaction.clientIp, reason: refusal.text });
        return { reply: refusal };
      }
    }
    const summary = summarizeMessageHeaders(raw);
    const verified = account.domains.filter(isInScope);
    const source: MessageSource = transaction.mailflow ? 'MAILFLOW' : 'GATEWAY';

    const ours = readProcessedMarks(raw).filter((mark) => mark.host === this.config.SMTP_HOSTNAME.toLowerCase());
    if (ours.length >= MAX_PROCESSED_MARKS) {
      // RFC 5321 6.3: a routing loop is detected and the message refused rather than passed around forever.
      return { reply: { code: 554, enhanced: '5.4.6', text: `Routing loop detected: processed ${ours.length} times by ${this.config.SMTP_HOSTNAME}` } };
    }
    // A message already processed is relayed without a second scan only when it comes back from the tenant's own
    // connector and IS the message its mark names (same account, Message-ID and body: anyone who received a copy can
    // replay its mark); any other mark is removed and ignored, and the message scanned.
    let processedOf: string | null = null;
    if (transaction.fromConnector && ours.length > 0) {
      const check = await processedOriginalOf(raw, ours.slice(0, 1), account.id, (id) => this.messages.findMarkedOriginal(id));
      processedOf = check.originalId;
      for (const mismatch of check.mismatches) {
        this.logger.warn({ event: 'gateway.processed_mark_mismatch', accountId: account.id, markedMessageId: mismatch.messageId, reason: mismatch.reason, clientIp: transaction.clientIp });
      }
    }

    // Mailflow traffic reaches us from Microsoft 365, not from the sender: SPF is evaluated against the hop where
    // the message entered Exchange Online (its Received field), as for journal copies; without one, SPF is not
    // evaluated (clientIp null) rather than failed against Microsoft's address.
    const origin = transaction.fromConnector ? findOriginHop(raw) : null;
    const checkedClient = transaction.fromConnector ? { ip: origin?.clientIp ?? null, helo: origin?.helo ?? null } : { ip: transaction.clientIp, helo: transaction.helo };
    // The envelope alone does not make mail internal (DESIGN.md §2): anyone on the internet can write MAIL FROM
    // with the tenant's own domain. Only mail from the tenant's own connector that never entered Exchange Online
    // from outside can be internal (and left unscanned); everything else is inbound and gets the sender checks.
    const decision = decideDirection(
      verified.map((domain) => domain.name),
      envelopeFrom,
      recipients,
      !transaction.fromConnector
        ? { enteredFromOutside: true, basis: 'gateway-client', detail: transaction.clientIp }
        : origin
          ? { enteredFromOutside: true, basis: 'provider-edge-hop', detail: origin.received }
          : { enteredFromOutside: false, basis: 'tenant-connector' },
    );
    const direction = decision.direction;
    let evaluation: MessageEvaluation;
    let policyContext: PolicyScopeContext;
    const evaluated = this.scanMetrics.startEvaluation(source);
    try {
      policyContext = await this.context.policyContext(account, verified, [...recipients, envelopeFrom]);
      evaluation = processedOf
        ? {
            verdicts: recipients.map((recipient) => ({ recipient, checks: [], decidedAction: 'DELIVER', appliedAction: 'DELIVER', enforced: true, reasons: [], skippedReason: 'already-processed' })),
            status: 'SKIPPED',
            senderReports: [],
            temporaryError: false,
            temporaryErrorMayReject: false,
          }
        : await evaluateMessage(
            {
              raw,
              direction,
              envelopeFrom,
              envelopeTo: recipients,
              headerFrom: summary.from,
              clientIp: checkedClient.ip,
              helo: checkedClient.helo,
              accountDomains: verified.map((domain) => domain.name),
              enforced: !account.monitorOnly,
              policyContext,
            },
            (input) => this.senderChecks.check(input),
          );
      evaluated();
    } catch (error) {
      this.scanMetrics.scanEnded(source, 'error');
      this.logger.error({ event: 'gateway.evaluation_failed', error: (error as Error).message });
      return { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary failure while checking the message, try again later' } };
    }

    if (evaluation.temporaryErrorMayReject) {
      const checks = evaluation.senderReports.flatMap((report) => report.temporaryErrorChecks);
      this.scanMetrics.scanEnded(source, 'temperror');
      this.logger.warn({ event: 'gateway.temperror', checks, envelopeFrom });
      return { reply: temporaryAuthFailureReply(checks) };
    }

    const verdicts = evaluation.verdicts;
    const actionOf = (verdict: EvaluatedVerdict): PolicyAction => verdict.appliedAction ?? 'DELIVER';
    const rejected = verdicts.filter((verdict) => actionOf(verdict) === 'REJECT');
    const allRejected = rejected.length === verdicts.length;

    let messageId: string;
    let receivedAt: Date;
    const copies = verdicts.map((verdict) => ({
      recipient: verdict.recipient,
      action: actionOf(verdict),
      state: DELIVERY_STATE_FOR[actionOf(verdict)],
      subjectTag: actionOf(verdict) === 'TAG_SUBJECT' ? effectivePoliciesFor(verdict.recipient, policyContext).emailSecurity.subjectTag : null,
    }));
    // Delivered in this process after the commit: its QUEUED copies are claimed by the statement that stores them.
    const claimLeaseMs = this.postCommit?.storeClaimLeaseMs ?? null;
    try {
      // Group commit: this message shares its transaction with those of concurrent sessions (ProcessedCommitter).
      const message = await this.processed.storeProcessed(
        {
          accountId: account.id,
          source,
          direction,
          envelopeFrom,
          envelopeTo: recipients,
          headerFrom: summary.from,
          subject: summary.subject,
          messageIdHeader: summary.messageId,
          clientIp: transaction.clientIp,
          helo: transaction.helo,
          metadata: {
            direction: { ...decision },
            gateway: { tls: transaction.tls, fromConnector: !!transaction.fromConnector, bareLineEnds, processedOf, originHop: origin?.received ?? null, outbound: !!transaction.outbound },
          },
          raw,
        },
        verdicts.map((verdict) => ({ ...verdict, quarantineReason: (verdict.reasons as Array<{ detail?: string }>)[0]?.detail ?? null })),
        evaluation.status,
        copies,
        { quarantineExpiresAt: quarantineExpiry(), claimLeaseMs },
      );
      messageId = message.id;
      receivedAt = message.receivedAt;
    } catch (error) {
      this.scanMetrics.scanEnded(source, 'error');
      this.logger.error({ event: 'gateway.store_failed', error: (error as Error).message });
      if (allRejected) {
        return { reply: this.rejection(rejected[0]!) };
      }
      return { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary storage failure, try again later' } };
    }

    this.messageMetrics.committed(source);
    this.scanMetrics.scanEnded(source, evaluation.status === 'SKIPPED' ? 'skipped' : 'scanned');
    this.scanMetrics.verdictsCommitted(source, verdicts);
    const actions = verdicts.map((verdict) => `${verdict.recipient}:${actionOf(verdict)}`);
    if (allRejected) {
      this.logger.log({ event: 'gateway.rejected', messageId, actions, failedCheck: rejected[0]!.failedCheck ?? null });
      return { reply: this.rejection(rejected[0]!), messageId };
    }
    const queuedCopies = copies.filter((copy) => copy.state === 'QUEUED');
    const queued = queuedCopies.map((copy) => copy.recipient.toLowerCase());
    if (queued.length > 0 && this.postCommit) {
      // After the commit, never before the 250: delivered by this process with what it has in hand (or queued when
      // it cannot); a crash before the delivery leaves the copies QUEUED for the delivery sweeper.
      this.postCommit.deliver({
        message: {
          id: messageId,
          accountId: account.id,
          source,
          direction,
          // As stored (lower case): the same MAIL FROM as a job's delivery of the stored row.
          envelopeFrom: envelopeFrom.toLowerCase(),
          headerFrom: summary.from?.toLowerCase() ?? null,
          helo: transaction.helo,
          clientIp: transaction.clientIp,
          metadata: { gateway: { tls: transaction.tls, processedOf, outbound: !!transaction.outbound } },
          account,
          verdicts: verdicts.map((verdict) => ({ recipient: verdict.recipient.toLowerCase(), checks: verdict.checks as never })),
        },
        raw,
        recipients: queued,
        claimed:
          claimLeaseMs === null
            ? undefined
            : {
                receivedAt,
                // As the store wrote them (DeliveryRepository.claimCopies would return the same rows), sorted as it sorts them.
                copies: queuedCopies
                  .map((copy) => ({ recipient: copy.recipient.toLowerCase(), action: copy.action, state: copy.state, subjectTag: copy.subjectTag ?? null, attempts: 0, lastError: null }))
                  .sort((a, b) => (a.recipient < b.recipient ? -1 : a.recipient > b.recipient ? 1 : 0)),
              },
      });
    } else if (queued.length > 0) {
      // After the commit: a lost enqueue (Redis down) is caught up by the delivery sweeper (transactional outbox).
      await this.queues
        .add(DeliveryJob, { messageId, recipients: queued })
        .catch((error: Error) => this.logger.warn({ event: 'gateway.enqueue_failed', messageId, error: error.message }));
    }
    this.logger.log({ event: 'gateway.accepted', messageId, source, direction, actions, alreadyProcessed: !!processedOf, bareLineEnds, outboundRelay: !!transaction.outbound });
    // One DATA reply answers for every recipient: recipients whose copy policy rejected are recorded as REJECTED
    // and get no copy, the others' copies go on (see apps/scanner/src/smtp/README.md).
    const note = rejected.length > 0 ? `; ${rejected.length} recipient(s) refused by policy` : '';
    return { reply: { code: 250, enhanced: '2.0.0', text: `Ok: queued as ${messageId}${note}` }, messageId };
  }

  /**
   * The outbound relay (issue 16): a recipient outside the account is accepted only from the tenant's own connector
   * (the `mailflow_connector` registration: source ranges or a verified TLS client certificate name), and only when
   * MAIL FROM is in one of that account's verified domains whose mode takes mail through Mailwarden (GATEWAY or
   * MAILFLOW, or moving to one) and the account is not monitor-only. Anything else is refused as before (no open
   * relay). Null: not an outbound relay, answer the recipient's own refusal.
   */
  private async outboundRelay(transaction: GatewayTransaction, envelopeFrom: string): Promise<RecipientDecisionReply | null> {
    const at = envelopeFrom.lastIndexOf('@');
    if (at < 0) {
      return null; // the null reverse-path names no tenant
    }
    const { domain, connector } = await this.recipientDomain(domainOf(envelopeFrom));
    if (!domain || domain.account.monitorOnly || !matchesConnector({ clientIp: transaction.clientIp, tlsCertNames: transaction.tlsCertNames }, connector)) {
      return null;
    }
    const paths = acceptedPaths(domain);
    if (!paths.has('GATEWAY') && !paths.has('MAILFLOW')) {
      return null;
    }
    if (transaction.account && transaction.account.id !== domain.accountId) {
      return { accept: false, reply: { code: 452, enhanced: '4.5.3', text: 'Recipients of another organisation: send them in a separate transaction' } };
    }
    transaction.account = domain.account;
    transaction.fromConnector = true;
    transaction.outbound = true;
    transaction.mailflow = transaction.mailflow || paths.has('MAILFLOW');
    return { accept: true };
  }

  /**
   * Microsoft 365's outbound connectors send from address ranges every Microsoft 365 organisation shares, so the
   * connector's addresses alone cannot tell our tenant's mail from another organisation's that claims its MAIL FROM.
   * When the account is connected to Microsoft 365, relayed mail must carry the tenant id Exchange Online stamps on
   * what its organisation sends (`X-MS-Exchange-CrossTenant-Id`; Exchange Online sets it itself): every such field
   * must name the account's tenant. Null: relay it.
   */
  private async outboundOriginRefusal(accountId: string, raw: Buffer): Promise<SmtpReply | null> {
    const tenantId = await this.microsoft365Tenants.get(accountId, async () => (await this.microsoft365.findConnection(accountId))?.tenantId.toLowerCase() ?? null);
    if (!tenantId) {
      return null;
    }
    const stamped = headerValues(raw, 'X-MS-Exchange-CrossTenant-Id').map((value) => value.trim().toLowerCase());
    if (stamped.length > 0 && stamped.every((value) => value === tenantId)) {
      return null;
    }
    return { code: 550, enhanced: '5.7.1', text: "Relay access denied: not sent by the organisation's Microsoft 365 tenant" };
  }

  private recipientDomain(name: string): Promise<{ domain: GatewayDomain | null; connector: MailflowConnector | null }> {
    return this.recipientDomains.get(name, () => this.loadRecipientDomain(name));
  }

  private async loadRecipientDomain(name: string): Promise<{ domain: GatewayDomain | null; connector: MailflowConnector | null }> {
    const domain = await this.deliveries.findRecipientDomain(name);
    return { domain, connector: domain ? await this.deliveries.findConnector(domain.accountId) : null };
  }

  /** Graceful shutdown, after the SMTP front drained: the in-process deliveries end or are left to the queue. */
  async drainDeliveries(): Promise<void> {
    await this.postCommit?.drain();
  }

  private rejection(verdict: EvaluatedVerdict): SmtpReply {
    const reasons = verdict.reasons as Array<{ detail?: string }>;
    return rejectReply(verdict.failedCheck, reasons[0]?.detail ?? '');
  }
}
