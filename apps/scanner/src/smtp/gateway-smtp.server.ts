import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type ScannerConfig } from '@mailwarden/config';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { smtpFrontSettings, SmtpFrontService, SmtpReplyError, type SmtpClient, type SmtpMessage, type SmtpReply } from '@mailwarden/smtp';
import { GatewayIntakeService, type GatewayTransaction } from './gateway-intake.service';
import { GATEWAY_SMTP_TUNING, type GatewaySmtpTuning } from './gateway-smtp.options';

/**
 * The gateway / mailflow SMTP front (DESIGN.md §3) on SCANNER_SMTP_PORT, a plug-in of the shared front (libs/smtp
 * `SmtpFrontService`: protocol, limits, STARTTLS, drain in onModuleDestroy). What differs lives in GatewayIntakeService: which recipients
 * are accepted (`checkRecipient`) and what a received message gets before the DATA reply (`receive`). The bytes
 * are normalised there before anything is stored or relayed.
 */
@Injectable()
export class GatewaySmtpServer extends SmtpFrontService<GatewayTransaction> {
  constructor(
    private readonly intake: GatewayIntakeService,
    @Inject(APP_CONFIG) config: ScannerConfig,
    @Inject(GATEWAY_SMTP_TUNING) tuning: GatewaySmtpTuning,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    super(
      smtpFrontSettings(config, {
        banner: 'Mailwarden gateway',
        port: config.SCANNER_SMTP_PORT,
        drainTimeoutMs: tuning.drainTimeoutMs,
        // Ask for a client certificate (Microsoft 365 connectors present one) without requiring it; only a chain
        // that verifies counts for connector recognition.
        tls: { requestClientCert: true, clientCa: tuning.tlsClientCa },
      }),
      'GatewaySmtpFront',
      { registry, front: 'gateway' },
    );
  }

  /**
   * Graceful shutdown: the SMTP front drains first (no message arrives after it), then the in-process deliveries of
   * the messages it stored end or go to the queue, before Nest destroys the global DbModule and QueueModule.
   */
  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await this.intake.drainDeliveries();
  }

  /** At MAIL: the connection's facts as they stand now (after STARTTLS, its HELO), no recipient's tenant yet. */
  newTransaction(client: SmtpClient): GatewayTransaction {
    return { clientIp: client.clientIp, helo: client.helo, tls: client.secure, tlsCertNames: client.tlsCertNames };
  }

  async acceptRecipient(address: string, transaction: GatewayTransaction, _client: SmtpClient, envelopeFrom: string): Promise<void> {
    const decision = await this.intake.checkRecipient(transaction, address, envelopeFrom);
    if (!decision.accept) {
      throw new SmtpReplyError(decision.reply);
    }
  }

  async receiveMessage(message: SmtpMessage, transaction: GatewayTransaction): Promise<SmtpReply> {
    const result = await this.intake.receive(transaction, message.envelopeFrom, message.recipients, message.raw);
    return result.reply;
  }
}
