import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { MimecastPollScheduler, type MimecastQueueOptions } from './mimecast-poll.processor';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import { MIMECAST_OPTIONS, type MimecastModuleOptions } from './mimecast.options';

export interface MimecastModuleRootOptions extends MimecastModuleOptions {
  /** With a queue, MimecastService keeps each account's poll schedule (BullMQ job scheduler) in step with its connection. */
  queue?: MimecastQueueOptions;
}

/**
 * Mimecast services for an app that already imports DbModule. With `queue`, configuring a connection schedules
 * its polls; the app that runs the polls also starts createMimecastPollWorker.
 */
@Module({})
export class MimecastModule {
  static forRoot(options: MimecastModuleRootOptions): DynamicModule {
    const { queue, ...serviceOptions } = options;
    const scheduler: Provider[] = queue
      ? [{ provide: MimecastPollScheduler, useFactory: () => new MimecastPollScheduler(queue) }]
      : [];
    return {
      module: MimecastModule,
      providers: [{ provide: MIMECAST_OPTIONS, useValue: serviceOptions }, MimecastPollerService, MimecastService, ...scheduler],
      exports: [MimecastPollerService, MimecastService, ...(queue ? [MimecastPollScheduler] : [])],
    };
  }
}
