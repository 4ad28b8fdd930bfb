import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { JobQueues } from '@mailwarden/queue';
import { MimecastPollScheduler } from './mimecast-poll.processor';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastService } from './mimecast.service';
import { MIMECAST_OPTIONS, type MimecastModuleOptions } from './mimecast.options';

export interface MimecastModuleRootOptions extends MimecastModuleOptions {
  /**
   * MimecastService keeps each account's poll schedule (BullMQ job scheduler) in step with its connection, on the
   * app's JobQueues (the app imports QueueModule).
   */
  schedulePolls?: boolean;
}

/**
 * Mimecast services for an app that already imports DbModule. With `schedulePolls`, configuring a connection schedules
 * its polls; the app that runs the polls also starts the worker (JobWorkers.start with mimecastPollHandlers).
 */
@Module({})
export class MimecastModule {
  static forRoot(options: MimecastModuleRootOptions): DynamicModule {
    const { schedulePolls, ...serviceOptions } = options;
    const scheduler: Provider[] = schedulePolls
      ? [{ provide: MimecastPollScheduler, useFactory: (queues: JobQueues) => new MimecastPollScheduler(queues), inject: [JobQueues] }]
      : [];
    return {
      module: MimecastModule,
      providers: [{ provide: MIMECAST_OPTIONS, useValue: serviceOptions }, MimecastPollerService, MimecastService, ...scheduler],
      exports: [MimecastPollerService, MimecastService, ...(schedulePolls ? [MimecastPollScheduler] : [])],
    };
  }
}
