import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { DeliveryRepository, DkimKeyRepository, MessageRepository, type ClaimedCopy, type MessageForDelivery, type RecipientDeliveryUpdate } from '@mailwarden/db';
import {
  arcChainStatus,
  DeliveryMetrics,
  dkimKeyCipherContext,
  dkimSignCopy,
  mailExchangersOf,
  mxRoute,
  planCopies,
  prepareCopy,
  sealCopy,
  smartHostRoute,
  type ArcChainStatus,
  type ArcSealingKey,
  type CopyRequest,
  type DkimSigningKey,
  type DownstreamRoute,
  type StoredCheck,
} from '@mailwarden/delivery';
import { CredentialsCipher } from '@mailwarden/mimecast';
import { domainOfAddress } from '@mailwarden/policy';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { DeliveryStatusJob, JobQueues, type DeliveryJobData } from '@mailwarden/queue';
import { SENDER_CHECKS_DNS_RESOLVER, type DnsResolveFunction } from '@mailwarden/sender-checks';
import { DeliveryClaims, type DeliveryClaim } from './delivery-claims.service';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DownstreamConnections, relayMessage } from './smtp-relay';

export class DeliveryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryInputError';
  }
}

export interface DeliveryRun {
  delivered: string[];
  failed: string[];
  deferred: string[];
  /** When deferred copies should be tried again. */
  retryInMs: number;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** What a delivery run reads of a message besides its copies: the stored row's fields, its account's domains, its verdicts. */
export type DeliveryMessage = Pick<MessageForDelivery, 'id' | 'accountId' | 'source' | 'direction' | 'envelopeFrom' | 'headerFrom' | 'helo' | 'clientIp' | 'metadata'> & {
  account: Pick<MessageForDelivery['account'], 'domains'>;
  verdicts: Array<Pick<MessageForDelivery['verdicts'][number], 'recipient' | 'checks'>>;
};

/**
 * A gateway message this process has just stored and answered 250 for, with everything its delivery needs in hand
 * (the SMTP front's `storeProcessed` input): delivered without reading the message, its verdicts or its bytes back.
 */
export interface StoredDelivery {
  message: DeliveryMessage;
  raw: Buffer;
  /** The recipients whose copies were stored QUEUED. */
  recipients: string[];
  /**
   * Set when the store claimed those copies for this run (`ProcessedWrite.claimLeaseMs`): the copies as stored and
   * the message's time, so the run relays them without a claim statement. Absent: the run claims them itself.
   */
  claimed?: { receivedAt: Date; copies: ClaimedCopy[] };
  /** That claim, registered for renewal while the message waits for its run (PostCommitDeliveries). */
  claim?: DeliveryClaim;
}

/**
 * Delivers a stored gateway / mailflow message to its recipients' downstreams (DESIGN.md §3): one SMTP transaction
 * per copy (recipients grouped by downstream and rendering), each recipient's state recorded. Idempotent per
 * recipient: a copy already DELIVERED is never sent again by a redelivered job.
 */
@Injectable()
export class DeliveryService implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly connections: DownstreamConnections;
  /** The deployment's ARC sealing key (ARC_SEAL_*); null: copies are relayed unsealed. */
  private readonly arcKey: ArcSealingKey | null;
  private readonly metrics: DeliveryMetrics;
  /** Decrypts the tenants' DKIM private keys (SECRETS_KEY); null: outbound mail goes unsigned. */
  private readonly cipher: CredentialsCipher | null;
  /** OUTBOUND_SMART_HOST; null: outbound mail goes to each recipient domain's MX. */
  private readonly smartHost: DownstreamRoute | null;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly messages: MessageRepository,
    private readonly queues: JobQueues,
    @Inject(APP_CONFIG) private readonly config: ScannerConfig,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
    @Inject(SENDER_CHECKS_DNS_RESOLVER) private readonly resolver: DnsResolveFunction,
    private readonly dkimKeys: DkimKeyRepository,
    private readonly claims: DeliveryClaims,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.metrics = new DeliveryMetrics(registry);
    // Validated by libs/config (readable, RSA >= 1024 bits or Ed25519, all three set or none).
    this.arcKey = config.ARC_SEAL_KEY_FILE ? { domain: config.ARC_SEAL_DOMAIN, selector: config.ARC_SEAL_SELECTOR, privateKey: readFileSync(config.ARC_SEAL_KEY_FILE, 'utf8') } : null;
    this.cipher = config.SECRETS_KEY ? new CredentialsCipher(config.SECRETS_KEY) : null;
    this.smartHost = smartHostRoute(config.OUTBOUND_SMART_HOST, { requireTls: config.OUTBOUND_SMART_HOST_REQUIRE_TLS, verifyCert: config.OUTBOUND_SMART_HOST_VERIFY_CERT });
    this.connections = new DownstreamConnections({ name: config.SMTP_HOSTNAME, timeoutMs: tuning.timeoutMs, connectionsPerRoute: tuning.connectionsPerRoute, idleMs: tuning.idleConnectionMs });
  }

  /** After every module's onModuleDestroy: the in-process deliveries the SMTP front drains still relay over these. */
  onApplicationShutdown(): void {
    this.connections.close();
  }

  /** A delivery job (queued by a front without the delivery role, a retry, the sweeper, a quarantine release). */
  async deliver(job: DeliveryJobData): Promise<DeliveryRun> {
    const run: DeliveryRun = { delivered: [], failed: [], deferred: [], retryInMs: 0 };
    const wanted = new Set(job.recipients.map((recipient) => recipient.toLowerCase()));
    const found = await this.deliveries.findForDelivery(job.messageId);
    if (!found) {
      throw new DeliveryInputError(`message ${job.messageId} not found`);
    }
    if (found.source === 'JOURNAL') {
      // A journal copy is only watched (DESIGN.md §2): the original already reached its mailbox through the provider.
      this.logger.warn({ event: 'delivery.journal_copy_skipped', messageId: found.id });
      return run;
    }
    let message = found;
    if (job.quarantineItemId) {
      if (!(await this.deliveries.isReleased(job.quarantineItemId, job.messageId))) {
        // Deleted, or released and then held again: the job is stale (libs/queue delivery.job.ts contract).
        this.logger.warn({ event: 'delivery.release_skipped', messageId: job.messageId, quarantineItemId: job.quarantineItemId });
        return run;
      }
      await this.deliveries.queueRelease(job.messageId, [...wanted]);
      message = (await this.deliveries.findForDelivery(job.messageId)) ?? found;
    }
    const pending = message.deliveries.filter((copy) => wanted.has(copy.recipient) && (copy.state === 'QUEUED' || copy.state === 'DEFERRED'));
    if (pending.length === 0) {
      return run;
    }
    const stored = message;
    return this.relayClaimed(
      message,
      pending.map((copy) => copy.recipient),
      async () => {
        const raw = await this.messages.readRaw(stored);
        if (!raw) {
          throw new DeliveryInputError(`message ${job.messageId}: raw content missing`);
        }
        return raw;
      },
      { release: !!job.quarantineItemId },
    );
  }

  /**
   * The delivery of a message this process has just stored (the gateway's in-process delivery, `PostCommitDeliveries`):
   * the same run as a job's, with the message and its bytes in hand, so nothing is read back; the copies the store
   * claimed for it (`stored.claimed`) are not claimed again.
   */
  deliverStored(stored: StoredDelivery): Promise<DeliveryRun> {
    return this.relayClaimed(stored.message, stored.recipients, async () => stored.raw, { release: false }, stored.claimed && { ...stored.claimed, claim: stored.claim ?? this.storeClaim(stored) });
  }

  /**
   * Registers the claim the gateway's store statement took for this process's run (`stored.claimed`) for renewal: its
   * "claimed_until" is the message's received_at + the lease (one now() in that statement, both to the millisecond).
   */
  storeClaim(stored: StoredDelivery): DeliveryClaim | undefined {
    if (!stored.claimed) {
      return undefined;
    }
    return this.claims.hold(stored.message.id, stored.claimed.copies.map((copy) => copy.recipient), new Date(stored.claimed.receivedAt.getTime() + this.tuning.claimLeaseMs));
  }

  /** Ends the claim (where still this process's) on copies no run of this process is going to relay, and its renewal. */
  async releaseClaim(claim: DeliveryClaim): Promise<void> {
    try {
      await this.claims.release(claim, claim.held);
    } finally {
      this.claims.end(claim);
    }
  }

  /**
   * Claims the copies of `recipients` still waiting (DeliveryRepository.claimCopies: no other run relays them while
   * this one does), relays the claimed ones and records each outcome, which ends its claim. A copy this run did not
   * get to send (an error before its relay) is released for the next attempt; one sent but not recorded (PostgreSQL
   * failed after the downstream's 250) keeps its claim until the lease ends, then is sent again: at least once.
   * `claimed`: the copies are this run's already (claimed by the statement that stored them).
   * The claim is renewed while the run lasts (DeliveryClaims); a copy whose claim this run no longer holds (renewal
   * stopped past the lease: another run may have it) is neither sent nor recorded nor released by it.
   */
  private async relayClaimed(
    message: DeliveryMessage,
    recipients: readonly string[],
    readRaw: () => Promise<Buffer>,
    options: { release: boolean },
    claimed?: { receivedAt: Date; copies: ClaimedCopy[]; claim?: DeliveryClaim },
  ): Promise<DeliveryRun> {
    const run: DeliveryRun = { delivered: [], failed: [], deferred: [], retryInMs: 0 };
    const taken = claimed ?? (await this.claimCopies(message.id, recipients));
    if (!taken?.claim || taken.copies.length === 0) {
      return run; // delivered meanwhile, or another run has them
    }
    const { receivedAt, copies, claim } = taken;
    const unsent = new Set(copies.map((copy) => copy.recipient));
    const lost = (recipients: readonly string[]): void => {
      recipients.forEach((recipient) => unsent.delete(recipient));
      this.logger.warn({ event: 'delivery.claim_lost', messageId: message.id, recipients });
    };
    const record = async (done: readonly string[], update: RecipientDeliveryUpdate, sent = false): Promise<string[]> => {
      // What was sent is recorded (the downstream has it); anything else only while the claim is this run's.
      const mine = sent ? [...done] : done.filter((recipient) => claim.holds(recipient));
      if (mine.length < done.length) {
        lost(done.filter((recipient) => !mine.includes(recipient)));
      }
      if (mine.length > 0) {
        await claim.settling(mine, () => this.deliveries.updateDeliveries(message.id, mine, update));
      }
      mine.forEach((recipient) => unsent.delete(recipient));
      claim.drop(mine);
      return mine;
    };
    const pending = copies.filter((copy) => claim.holds(copy.recipient));
    if (pending.length < copies.length) {
      lost(copies.filter((copy) => !pending.includes(copy)).map((copy) => copy.recipient)); // stalled before its run began
    }
    try {
      return pending.length === 0 ? run : await this.relayCopies(message, receivedAt, pending, await readRaw(), options, run, record, unsent, claim, lost);
    } finally {
      if (unsent.size > 0) {
        await this.claims
          .release(claim, [...unsent])
          .catch((error: Error) => this.logger.warn({ event: 'delivery.claim_release_failed', messageId: message.id, error: error.message }));
      }
      this.claims.end(claim);
    }
  }

  /** DeliveryRepository.claimCopies, the claim registered for renewal (none when no copy was claimed). */
  private async claimCopies(messageId: string, recipients: readonly string[]): Promise<{ receivedAt: Date; copies: ClaimedCopy[]; claim?: DeliveryClaim }> {
    const { receivedAt, claimedUntil, copies } = await this.deliveries.claimCopies(messageId, recipients, this.tuning.claimLeaseMs);
    return { receivedAt, copies, claim: claimedUntil && copies.length > 0 ? this.claims.hold(messageId, copies.map((copy) => copy.recipient), claimedUntil) : undefined };
  }

  private async relayCopies(
    message: DeliveryMessage,
    receivedAt: Date,
    pending: readonly ClaimedCopy[],
    raw: Buffer,
    options: { release: boolean },
    run: DeliveryRun,
    record: (done: readonly string[], update: RecipientDeliveryUpdate, sent?: boolean) => Promise<string[]>,
    unsent: Set<string>,
    claim: DeliveryClaim,
    lost: (recipients: readonly string[]) => void,
  ): Promise<DeliveryRun> {
    // Past the retry window every copy still waiting has failed for good (RFC 5321 4.5.4.1: give up eventually).
    // A release is a fresh delivery: its window starts now.
    if (!options.release && Date.now() - receivedAt.getTime() > this.tuning.retryWindowMs) {
      const expired = await record(
        pending.map((copy) => copy.recipient),
        { state: 'FAILED', lastError: `delivery time expired; last error: ${pending[0]!.lastError ?? 'none'}` },
      );
      if (expired.length === 0) {
        return run;
      }
      run.failed.push(...expired);
      this.metrics.outcome('expired', expired.length);
      await this.notifySender(message, expired);
      this.logger.warn({ event: 'delivery.expired', messageId: message.id, recipients: expired });
      return run;
    }

    const metadata = (message.metadata ?? {}) as { gateway?: { tls?: boolean; processedOf?: string | null; outbound?: boolean } };
    const requests: CopyRequest[] = [];
    const exchangers = new Map<string, Promise<DownstreamRoute | string>>();
    for (const copy of pending) {
      const domain = message.account.domains.find((candidate) => candidate.name === domainOf(copy.recipient));
      if (!domain?.downstreamHost && metadata.gateway?.outbound) {
        // The outbound relay (issue 16): a recipient outside the account's served domains goes to the internet.
        const recipientDomain = domainOf(copy.recipient);
        if (!exchangers.has(recipientDomain)) {
          exchangers.set(recipientDomain, this.outboundRoute(recipientDomain));
        }
        const route = await exchangers.get(recipientDomain)!;
        if (typeof route === 'string') {
          const permanent = route.startsWith('5');
          const done = await record([copy.recipient], { state: permanent ? 'FAILED' : 'DEFERRED', lastError: route, attempted: true });
          (permanent ? run.failed : run.deferred).push(...done);
          continue;
        }
        const verdict = message.verdicts.find((candidate) => candidate.recipient === copy.recipient);
        requests.push({ recipient: copy.recipient, subjectTag: copy.action === 'TAG_SUBJECT' ? copy.subjectTag : null, route, variant: JSON.stringify([verdict?.checks ?? null, 'OUTBOUND']) });
        continue;
      }
      if (!domain?.downstreamHost) {
        const done = await record([copy.recipient], { state: 'DEFERRED', lastError: `no downstream host configured for ${domainOf(copy.recipient)}` });
        run.deferred.push(...done);
        this.metrics.outcome('no_route', done.length);
        continue;
      }
      const verdict = message.verdicts.find((candidate) => candidate.recipient === copy.recipient);
      requests.push({
        recipient: copy.recipient,
        subjectTag: copy.action === 'TAG_SUBJECT' ? copy.subjectTag : null,
        route: { host: domain.downstreamHost, port: domain.downstreamPort, requireTls: domain.downstreamRequireTls, verifyCert: domain.downstreamVerifyCert },
        variant: JSON.stringify([verdict?.checks ?? null, domain.mode]),
      });
    }

    // RFC 8617 5.2: the chain as it reached us, validated once per run over the stored original (not our copy).
    let chain: Promise<ArcChainStatus> | undefined;
    // RFC 6376: only what the tenant itself sent out (direction OUTBOUND: from its connector, never entered from
    // outside) is signed, with the newest ACTIVE key of its header From domain.
    const dkimKey = message.direction === 'OUTBOUND' && requests.length > 0 ? await this.signingKey(message) : null;
    for (const copy of planCopies(requests)) {
      const verdict = message.verdicts.find((candidate) => candidate.recipient === copy.recipients[0]);
      const checks = Array.isArray(verdict?.checks) && verdict.checks.length > 0 ? (verdict.checks as unknown as StoredCheck[]) : null;
      let body = prepareCopy(raw, {
        host: this.config.SMTP_HOSTNAME,
        messageId: message.id,
        received: { helo: message.helo, clientIp: message.clientIp, tls: !!metadata.gateway?.tls, recipient: copy.recipients.length === 1 ? copy.recipients[0] : undefined, date: receivedAt },
        checks,
        subjectTag: copy.subjectTag,
        // Every copy is marked. Back to Microsoft 365 the transport rule's exception keeps it from being routed to us
        // again; and whatever the domain's mode or migration step (and however fresh a cache is), the mark tells the
        // other paths (the connector, a journal copy) that this message was scanned already, so no message is
        // scanned twice by two modes (issue 13 §2).
        markProcessed: true,
        keepProcessedMarks: !!metadata.gateway?.processedOf,
      });
      if (dkimKey) {
        const signed = await dkimSignCopy(body, dkimKey);
        if (signed.error) {
          this.logger.warn({ event: 'delivery.dkim_not_signed', messageId: message.id, domain: dkimKey.domain, reason: signed.error });
        }
        body = signed.raw;
      }
      if (this.arcKey) {
        chain ??= arcChainStatus(raw, this.resolver).catch((): ArcChainStatus => 'temperror');
        body = await this.seal(message.id, body, checks, await chain);
      }
      // The claim checked right before the send (no statement: as the last renewal left it): a run that stalled past its
      // lease sends nothing more, whoever has taken the copies since.
      const to = copy.recipients.filter((recipient) => claim.holds(recipient));
      if (to.length < copy.recipients.length) {
        lost(copy.recipients.filter((recipient) => !to.includes(recipient)));
      }
      if (to.length === 0) {
        continue;
      }
      to.forEach((recipient) => unsent.delete(recipient)); // from here on it may reach the downstream
      const result = await relayMessage(copy.route, { from: message.envelopeFrom, to, raw: body }, { name: this.config.SMTP_HOSTNAME, timeoutMs: this.tuning.timeoutMs, connections: this.connections });
      const downstream = `${copy.route.host}:${copy.route.port}`;
      this.metrics.attempt(result.accepted.length, result.failed.length);
      if (result.accepted.length > 0) {
        await record(result.accepted, { state: 'DELIVERED', lastError: null, attempted: true, reply: result.reply ?? null, downstream }, true);
        run.delivered.push(...result.accepted);
        this.metrics.outcome('delivered', result.accepted.length);
      }
      for (const failure of result.failed) {
        await record([failure.recipient], { state: failure.permanent ? 'FAILED' : 'DEFERRED', lastError: failure.error, attempted: true, downstream }, true);
        (failure.permanent ? run.failed : run.deferred).push(failure.recipient);
        this.metrics.outcome(failure.permanent ? 'failed' : 'deferred');
      }
      this.logger.log({
        event: 'delivery.attempted',
        messageId: message.id,
        downstream,
        delivered: result.accepted,
        failed: result.failed.map((failure) => `${failure.recipient}:${failure.permanent ? 'permanent' : 'temporary'}: ${failure.error}`),
      });
    }

    if (run.failed.length > 0) {
      await this.notifySender(message, run.failed);
    }
    if (run.deferred.length > 0) {
      const attempts = Math.max(1, ...pending.filter((copy) => run.deferred.includes(copy.recipient)).map((copy) => copy.attempts + 1));
      run.retryInMs = Math.min(this.tuning.initialRetryDelayMs * 2 ** (attempts - 1), this.tuning.maxRetryDelayMs);
    }
    return run;
  }

  /**
   * Our ARC set on top of the finished copy (after tagging and trace fields), so the next hop (Microsoft 365 with
   * Mailwarden as a trusted ARC sealer) can rely on the results we computed although we changed the Subject. When
   * DNS could not say whether the received chain holds, the copy goes unsealed rather than with a false cv=.
   */
  private async seal(messageId: string, body: Buffer, checks: StoredCheck[] | null, chain: ArcChainStatus): Promise<Buffer> {
    if (chain === 'temperror') {
      this.logger.warn({ event: 'delivery.arc_not_sealed', messageId, reason: 'the received ARC chain could not be validated (DNS temperror)' });
      return body;
    }
    const sealed = await sealCopy(body, this.arcKey!, { authservId: this.config.SMTP_HOSTNAME, checks, chain });
    if (sealed.error) {
      this.logger.warn({ event: 'delivery.arc_not_sealed', messageId, reason: sealed.error });
    }
    return sealed.raw;
  }

  /**
   * Where an outbound copy for `domain` goes: OUTBOUND_SMART_HOST, else the domain's most preferred MX (through the
   * scanner's resolver, DNS_SERVERS) with opportunistic TLS. A string is why there is no route: `5…` for good (a
   * null MX, RFC 7505: the domain takes no mail), `4…` for now (DNS failed).
   */
  private async outboundRoute(domain: string): Promise<DownstreamRoute | string> {
    if (this.smartHost) {
      return this.smartHost;
    }
    try {
      const [first] = mailExchangersOf((await this.resolver(domain, 'MX')) as Array<{ exchange: string; priority: number }>);
      return first ? mxRoute(first) : `550 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)`;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENODATA') {
        return mxRoute(domain); // RFC 5321 5.1: no MX, the domain itself (implicit MX)
      }
      return code === 'ENOTFOUND' ? `550 5.1.2 ${domain} does not exist (NXDOMAIN)` : `451 4.4.3 MX lookup of ${domain} failed: ${code ?? (error as Error).message}`;
    }
  }

  /**
   * The DKIM key that signs an outbound message: the newest ACTIVE key of its header From domain, if that domain is
   * one of the account's verified domains. Null (and the copy goes unsigned) when there is none, when SECRETS_KEY is
   * not set, or when the stored private key does not decrypt (a ciphertext not made for this key row).
   */
  private async signingKey(message: DeliveryMessage): Promise<DkimSigningKey | null> {
    const fromDomain = domainOfAddress(message.headerFrom);
    const row = fromDomain ? await this.dkimKeys.findSigningKey(message.accountId, fromDomain) : null;
    if (!row) {
      return null;
    }
    if (!this.cipher) {
      this.logger.warn({ event: 'delivery.dkim_not_signed', messageId: message.id, domain: row.domain, reason: 'SECRETS_KEY not configured: the DKIM key cannot be decrypted' });
      return null;
    }
    try {
      const { privateKey } = this.cipher.decrypt<{ privateKey: string }>(row.encryptedPrivateKey, dkimKeyCipherContext(row.id));
      return { domain: row.domain, selector: row.selector, privateKey };
    } catch {
      this.logger.error({ event: 'delivery.dkim_not_signed', messageId: message.id, domain: row.domain, keyId: row.id, reason: 'the stored DKIM key does not decrypt with SECRETS_KEY for this key' });
      return null;
    }
  }

  /** Queues the DSN for copies that failed for good; the null sender (`<>`) never gets one (RFC 5321 6.1). */
  private async notifySender(message: DeliveryMessage, recipients: string[]): Promise<void> {
    if (!message.envelopeFrom) {
      this.logger.log({ event: 'delivery.dsn_suppressed', messageId: message.id, reason: 'null sender' });
      return;
    }
    await this.queues.add(DeliveryStatusJob, { messageId: message.id, recipients });
  }
}
