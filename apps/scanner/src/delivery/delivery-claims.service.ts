import { Inject, Injectable } from '@nestjs/common';
import { DeliveryRepository } from '@mailwarden/db';
import { RepeatingService, type Repetition } from '../common/repeating.service';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';

/**
 * The copies of one message one delivery run of this process has claimed (DeliveryRepository.claimCopies, or the
 * gateway's store statement), with the "claimed_until" this process last set on them: one value for all (the claim and
 * every renewal set them in one statement each). A copy leaves it when its outcome is recorded, when it is released,
 * or when its claim is found lost.
 */
export class DeliveryClaim {
  private readonly recipients: Set<string>;
  /** Copies whose outcome is being recorded (which ends their claim): left out of the renewals meanwhile. */
  private readonly recording = new Set<string>();

  constructor(
    readonly messageId: string,
    recipients: readonly string[],
    /** The copies' "claimed_until" as this process last set it. */
    public until: Date,
    private readonly marginMs: number,
  ) {
    this.recipients = new Set(recipients.map((recipient) => recipient.toLowerCase()));
  }

  /** The copies still held (claimed, not recorded, released nor lost). */
  get held(): string[] {
    return [...this.recipients];
  }

  /**
   * Whether this run may still send (or record) the copy: its claim neither ended nor lost, and more than the margin
   * (a quarter of the lease) left before it runs out, by this process's clock against PostgreSQL's value. A run that
   * stalled past that (renewal stopped: a long pause, PostgreSQL unreachable) sends nothing more: the sweeper takes it.
   */
  holds(recipient: string): boolean {
    return this.recipients.has(recipient.toLowerCase()) && Date.now() < this.until.getTime() - this.marginMs;
  }

  /** The copies a renewal extends and judges: held, and not being recorded. */
  get renewable(): string[] {
    return this.held.filter((recipient) => !this.recording.has(recipient));
  }

  /**
   * Records the copies' outcome (`work`, which ends their claim) with them out of the renewals meanwhile: a renewal
   * meeting the record would find them unclaimed and count them lost. They stay held (released if it fails).
   */
  async settling<T>(recipients: readonly string[], work: () => Promise<T>): Promise<T> {
    const keys = recipients.map((recipient) => recipient.toLowerCase());
    keys.forEach((key) => this.recording.add(key));
    try {
      return await work();
    } finally {
      keys.forEach((key) => this.recording.delete(key));
    }
  }

  /** The copies leave the claim (recorded, released or lost). */
  drop(recipients: readonly string[]): void {
    recipients.forEach((recipient) => this.recipients.delete(recipient.toLowerCase()));
  }
}

/**
 * The claims this process holds, renewed while it holds them (issue 20): the lease (`claimLeaseMs`, 2 minutes) is
 * short, so the sweeper takes the copies of a process that died about as soon as its grace allows, and every
 * `claimRenewEveryMs` ONE statement (DeliveryRepository.renewClaims) extends every claim still held here, whether its
 * copies wait in the in-process backlog or are being relayed, so a run that lasts longer than the lease (a slow
 * downstream, a big message, many recipients) keeps them. The statement extends only the value this process set (no
 * claim another run took over after a stall); what it did not renew is lost and dropped, and a run checks its claim
 * ({@link DeliveryClaim.holds}) before each send.
 */
@Injectable()
export class DeliveryClaims extends RepeatingService {
  private readonly claims = new Set<DeliveryClaim>();
  private renewing?: Promise<number>;

  constructor(
    private readonly deliveries: DeliveryRepository,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
  ) {
    super();
  }

  protected repetition(): Repetition {
    return { everyMs: this.tuning.claimRenewEveryMs, failedEvent: 'delivery.claim_renewal_failed' };
  }

  protected repeat(): Promise<number> {
    return this.renew();
  }

  /** Claims held by this process (tests, the shutdown log). */
  get size(): number {
    return this.claims.size;
  }

  /** Registers a claim a run of this process has just taken, `until` being the "claimed_until" it set. */
  hold(messageId: string, recipients: readonly string[], until: Date): DeliveryClaim {
    const claim = new DeliveryClaim(messageId, recipients, until, this.tuning.claimLeaseMs / 4);
    this.claims.add(claim);
    return claim;
  }

  /** The run is over: what is left of its claim is no longer renewed. */
  end(claim: DeliveryClaim): void {
    this.claims.delete(claim);
  }

  /** Ends the claim on copies the run does not relay (only where it is still this run's) and stops renewing them. */
  async release(claim: DeliveryClaim, recipients: readonly string[]): Promise<void> {
    await this.renewing?.catch(() => undefined); // released with the value a renewal in flight may be setting
    const held = recipients.filter((recipient) => claim.held.includes(recipient.toLowerCase()));
    claim.drop(held);
    if (held.length > 0) {
      await this.deliveries.releaseClaims(claim.messageId, held, claim.until);
    }
  }

  /**
   * One renewal of every claim held here, in one statement; returns how many copies were renewed. Copies it did not
   * renew are lost (taken over after their lease ran out, or recorded meanwhile) and dropped. One at a time: a tick
   * that comes while one runs waits for it.
   */
  renew(): Promise<number> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<number> {
    // What each claim asks to renew now (held, not being recorded).
    const asked = [...this.claims].map((claim) => ({ claim, recipients: claim.renewable }));
    // A copy two runs of this process held one after the other (one stalled past its lease, then this process's job
    // took the copy over): only the later value can still be a claim, values only grow. The earlier run's is lost
    // and must not take the later one's renewal.
    const latest = new Map<string, DeliveryClaim>();
    for (const { claim, recipients } of asked) {
      for (const recipient of recipients) {
        const other = latest.get(`${claim.messageId} ${recipient}`);
        if (!other || other.until.getTime() < claim.until.getTime()) {
          latest.set(`${claim.messageId} ${recipient}`, claim);
        }
      }
    }
    const rows = [...latest].map(([key, claim]) => ({ messageId: claim.messageId, recipient: key.slice(key.indexOf(' ') + 1), claimedUntil: claim.until }));
    if (rows.length === 0) {
      return 0;
    }
    const renewed = await this.deliveries.renewClaims(rows, this.tuning.claimLeaseMs);
    const kept = new Set(renewed.map((row) => `${row.messageId} ${row.recipient}`));
    const until = renewed[0]?.claimedUntil;
    const lost: string[] = [];
    for (const { claim, recipients } of asked) {
      // Not renewed and still this claim's, not being recorded (its record, meanwhile, may have ended the claim): lost.
      const renewable = new Set(claim.renewable);
      const gone = recipients.filter((recipient) => renewable.has(recipient) && (latest.get(`${claim.messageId} ${recipient}`) !== claim || !kept.has(`${claim.messageId} ${recipient}`)));
      claim.drop(gone);
      lost.push(...gone.map((recipient) => `${claim.messageId} ${recipient}`));
      if (until && recipients.some((recipient) => kept.has(`${claim.messageId} ${recipient}`) && latest.get(`${claim.messageId} ${recipient}`) === claim)) {
        claim.until = until;
      }
    }
    if (lost.length > 0) {
      this.logger.warn({ event: 'delivery.claims_lost', copies: lost.length, sample: lost.slice(0, 5) });
    }
    return renewed.length;
  }
}
