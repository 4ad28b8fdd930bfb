import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { DeliveryRepository, MessageRepository } from '@mailwarden/db';
import { buildDsn, type DownstreamRoute } from '@mailwarden/delivery';
import type { DeliveryStatusJobData } from '@mailwarden/queue';
import { DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryInputError } from './delivery.service';
import { mailExchangers, relayMessage } from './smtp-relay';

/** Sends the RFC 3464 delivery status notification for copies that failed for good, with the null sender. */
@Injectable()
export class DeliveryStatusService {
  private readonly logger = new Logger(DeliveryStatusService.name);

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly messages: MessageRepository,
    @Inject(APP_CONFIG) private readonly config: ScannerConfig,
    @Inject(DELIVERY_TUNING) private readonly tuning: DeliveryTuning,
  ) {}

  async send(job: DeliveryStatusJobData): Promise<'sent' | 'undeliverable'> {
    const message = await this.deliveries.findForDelivery(job.messageId);
    const raw = message ? await this.messages.readRaw(message) : null;
    if (!message || !raw) {
      throw new DeliveryInputError(`message ${job.messageId} not found`);
    }
    const failed = message.deliveries.filter((copy) => copy.state === 'FAILED' && job.recipients.includes(copy.recipient));
    const dsn = buildDsn({
      reportingMta: this.config.SMTP_HOSTNAME,
      to: message.envelopeFrom,
      arrivalDate: message.receivedAt,
      original: raw,
      recipients: failed.map((copy) => {
        const domain = message.account.domains.find((candidate) => copy.recipient.endsWith(`@${candidate.name}`));
        return {
          recipient: copy.recipient,
          diagnostic: copy.lastError ?? 'delivery failed',
          remoteMta: domain?.downstreamHost ?? null,
          expired: (copy.lastError ?? '').startsWith('delivery time expired'),
          lastAttemptAt: copy.lastAttemptAt,
        };
      }),
    });
    const routes: DownstreamRoute[] = this.tuning.dsnRoute
      ? [this.tuning.dsnRoute]
      : // RFC 7435: to an MX, TLS is opportunistic and its certificate is not checked.
        (await mailExchangers(message.envelopeFrom.slice(message.envelopeFrom.lastIndexOf('@') + 1))).map((host) => ({ host, port: 25, requireTls: false, verifyCert: false }));
    if (routes.length === 0) {
      this.logger.warn({ event: 'delivery.dsn_refused', messageId: message.id, to: message.envelopeFrom, error: 'null MX: the sender domain accepts no mail' });
      return 'undeliverable';
    }
    let lastError = '';
    for (const route of routes) {
      const result = await relayMessage(route, { from: '', to: [message.envelopeFrom], raw: dsn }, { name: this.config.SMTP_HOSTNAME, timeoutMs: this.tuning.timeoutMs });
      if (result.accepted.length > 0) {
        this.logger.log({ event: 'delivery.dsn_sent', messageId: message.id, to: message.envelopeFrom, recipients: job.recipients, via: route.host });
        return 'sent';
      }
      const failure = result.failed[0]!;
      if (failure.permanent) {
        this.logger.warn({ event: 'delivery.dsn_refused', messageId: message.id, to: message.envelopeFrom, error: failure.error });
        return 'undeliverable';
      }
      lastError = failure.error;
    }
    // Temporary everywhere: the job is retried with back-off.
    throw new Error(`DSN for ${message.id} not delivered: ${lastError}`);
  }
}
