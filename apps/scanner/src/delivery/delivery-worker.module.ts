import { type DynamicModule, Module } from '@nestjs/common';
import { DELIVERY_TUNING, DEFAULT_DELIVERY_TUNING, type DeliveryTuning } from './delivery.options';
import { DeliveryProcessor } from './delivery.processor';
import { DeliveryStatusService } from './delivery-status.service';
import { DeliverySweeperService } from './delivery-sweeper.service';
import { DeliveryService } from './delivery.service';

/** The delivery workers (SCANNER_ROLE worker or all). Needs DbModule and QueueModule. */
@Module({})
export class DeliveryWorkerModule {
  static forRoot(tuning: Partial<DeliveryTuning> = {}): DynamicModule {
    return {
      module: DeliveryWorkerModule,
      providers: [{ provide: DELIVERY_TUNING, useValue: { ...DEFAULT_DELIVERY_TUNING, ...tuning } }, DeliveryService, DeliveryStatusService, DeliveryProcessor, DeliverySweeperService],
      exports: [DeliveryService, DeliverySweeperService],
    };
  }
}
