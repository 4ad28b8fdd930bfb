import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryClaims } from './delivery-claims.service';
import { DELIVERY_TUNING, DEFAULT_DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryProcessor } from './delivery.processor';
import { DeliveryStatusService } from './delivery-status.service';
import { DeliverySweeperService } from './delivery-sweeper.service';
import { DeliveryService } from './delivery.service';
import { PostCommitDeliveries } from './post-commit-deliveries.service';

/**
 * The delivery workers (SCANNER_ROLE worker or all), and the in-process delivery of what the SMTP front of the same
 * process stored (SCANNER_ROLE=all: GatewaySmtpModule imports this module). Needs DbModule and QueueModule.
 */
@Module({})
export class DeliveryWorkerModule {
  static forRoot(tuning: Partial<DeliveryTuning> = {}): DynamicModule {
    const lease = tuning.claimLeaseMs ?? DEFAULT_DELIVERY_TUNING.claimLeaseMs;
    // A lease given alone is renewed at a quarter of itself (a run sends only with more than a quarter left).
    const claimRenewEveryMs = tuning.claimRenewEveryMs ?? lease / 4;
    return {
      module: DeliveryWorkerModule,
      providers: [{ provide: DELIVERY_TUNING, useValue: { ...DEFAULT_DELIVERY_TUNING, ...tuning, claimRenewEveryMs } }, DeliveryClaims, DeliveryService, DeliveryStatusService, DeliveryProcessor, DeliverySweeperService, PostCommitDeliveries],
      exports: [DeliveryClaims, DeliveryService, DeliverySweeperService, PostCommitDeliveries],
    };
  }
}
