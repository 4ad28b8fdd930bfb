import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import nodemailer from 'nodemailer';
import { DeliveryRepository, type DeliveryState } from '@mailwarden/db';

/** Where the quick test sends: the scanner's SMTP front, as the domain's real mail does. */
export interface QuickTestOptions {
  smtpHost: string;
  smtpPort: number;
  /** Our host name: HELO name and the sender's domain. */
  hostname: string;
  /** How long to wait for the message to reach the downstream (default 60 s). */
  timeoutMs?: number;
  pollMs?: number;
}

export const QUICK_TEST_OPTIONS = Symbol('QUICK_TEST_OPTIONS');

export interface QuickTestResult {
  domainId: string;
  domain: string;
  recipient: string;
  /** The front accepted the message (250 to DATA). */
  accepted: boolean;
  /** Whether the copy reached the downstream (deliveryState DELIVERED) in time. */
  arrived: boolean;
  /** The state the message reached; null when it was never stored. */
  deliveryState: DeliveryState | null;
  messageId: string | null;
  /** From sending to DELIVERED (or to giving up). */
  elapsedMs: number;
  error?: string;
}

/**
 * The mailflow / gateway quick test (DESIGN.md §2, a manual step's check): sends a test message to the scanner's
 * own SMTP front, addressed to a recipient of the domain, and watches the stored message until the downstream
 * accepted it. Note: for a MAILFLOW domain the front only accepts mail from the tenant's connector, so the test
 * must run from an address inside the connector's ranges (otherwise it reports the 550 it got).
 */
@Injectable()
export class QuickTestService {
  private readonly logger = new Logger(QuickTestService.name);

  constructor(
    private readonly deliveries: DeliveryRepository,
    @Inject(QUICK_TEST_OPTIONS) private readonly options: QuickTestOptions,
  ) {}

  async quickTest(domainId: string, options: { recipient?: string } = {}): Promise<QuickTestResult> {
    const domain = await this.deliveries.findDomain(domainId);
    if (!domain) {
      throw new Error(`domain ${domainId} not found`);
    }
    // RFC 5321 4.5.1: every domain that receives mail has a postmaster mailbox.
    const recipient = (options.recipient ?? `postmaster@${domain.name}`).toLowerCase();
    const messageIdHeader = `<quick-test-${randomUUID()}@${this.options.hostname}>`;
    const started = Date.now();
    const result: QuickTestResult = { domainId, domain: domain.name, recipient, accepted: false, arrived: false, deliveryState: null, messageId: null, elapsedMs: 0 };
    const transport = nodemailer.createTransport({
      host: this.options.smtpHost,
      port: this.options.smtpPort,
      secure: false,
      name: this.options.hostname,
      tls: { rejectUnauthorized: false },
    });
    try {
      const sender = `quick-test@${this.options.hostname}`;
      const raw = [
        `From: Mailwarden quick test <${sender}>`,
        `To: <${recipient}>`,
        `Subject: Mailwarden quick test for ${domain.name}`,
        `Message-ID: ${messageIdHeader}`,
        `Date: ${new Date().toUTCString()}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        `This message tests the ${domain.mode} path of ${domain.name} through Mailwarden. It can be deleted.`,
        '',
      ].join('\r\n');
      await transport.sendMail({ envelope: { from: sender, to: [recipient] }, raw });
      result.accepted = true;
    } catch (error) {
      result.error = (error as Error).message;
      result.elapsedMs = Date.now() - started;
      this.logger.warn({ event: 'quick_test.refused', domainId, error: result.error });
      return result;
    } finally {
      transport.close();
    }

    const deadline = started + (this.options.timeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const message = await this.deliveries.findByMessageIdHeader(domain.accountId, messageIdHeader);
      if (message) {
        result.messageId = message.id;
        result.deliveryState = message.deliveryState;
        if (message.deliveryState === 'DELIVERED') {
          result.arrived = true;
          break;
        }
        if (message.deliveryState === 'FAILED' || message.deliveryState === 'REJECTED' || message.deliveryState === 'QUARANTINED') {
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 250));
    }
    result.elapsedMs = Date.now() - started;
    this.logger.log({ event: 'quick_test.completed', domainId, arrived: result.arrived, deliveryState: result.deliveryState, elapsedMs: result.elapsedMs });
    return result;
  }
}
