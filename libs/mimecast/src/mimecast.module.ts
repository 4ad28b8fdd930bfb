import { type DynamicModule, Module } from '@nestjs/common';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import { MIMECAST_OPTIONS, type MimecastModuleOptions } from './mimecast.options';

/**
 * Mimecast services for an app that already imports DbModule. Apps that poll also provide a
 * MimecastPollScheduler (it needs the app's Redis connection) and start createMimecastPollWorker.
 */
@Module({})
export class MimecastModule {
  static forRoot(options: MimecastModuleOptions): DynamicModule {
    return {
      module: MimecastModule,
      providers: [{ provide: MIMECAST_OPTIONS, useValue: options }, MimecastPollerService, MimecastService],
      exports: [MimecastPollerService, MimecastService],
    };
  }
}
