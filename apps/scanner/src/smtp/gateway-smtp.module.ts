import { type DynamicModule, Module } from '@nestjs/common';
import { ScanContextModule } from '@mailwarden/scanning';
import { GatewayIntakeService } from './gateway-intake.service';
import { DEFAULT_GATEWAY_SMTP_TUNING, GATEWAY_SMTP_TUNING, type GatewaySmtpTuning } from './gateway-smtp.options';
import { GatewaySmtpServer } from './gateway-smtp.server';

/**
 * The gateway / mailflow SMTP front (SCANNER_ROLE smtp or all). Needs DbModule, QueueModule and SenderChecksModule.
 * `delivery`: the process's DeliveryWorkerModule when it runs the delivery role too (SCANNER_ROLE=all): the front
 * then hands what it stored to the in-process delivery (PostCommitDeliveries) instead of the delivery queue.
 */
@Module({})
export class GatewaySmtpModule {
  static forRoot(tuning: Partial<GatewaySmtpTuning> = {}, delivery?: DynamicModule): DynamicModule {
    return {
      module: GatewaySmtpModule,
      imports: [ScanContextModule, ...(delivery ? [delivery] : [])],
      providers: [{ provide: GATEWAY_SMTP_TUNING, useValue: { ...DEFAULT_GATEWAY_SMTP_TUNING, ...tuning } }, GatewayIntakeService, GatewaySmtpServer],
      exports: [GatewaySmtpServer],
    };
  }
}
