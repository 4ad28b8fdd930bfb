import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { JobQueues, QueueName } from '@mailwarden/queue';
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
 * its polls; the app that runs the polls also starts the worker (JobWorkers.start with mimecastPollHandlers).
 */
@Module({})
export class MimecastModule {
  static forRoot(options: MimecastModuleRootOptions): DynamicModule {
    const { queue, ...serviceOptions } = options;
    const scheduler: Provider[] = queue
      ? [
          {
            provide: MimecastPollScheduler,
            // The app's shared queue (QueueModule) when there is one: its connection and job defaults.
            useFactory: (queues?: JobQueues) => new MimecastPollScheduler(queues ? queues.get(QueueName.MimecastPoll) : queue),
            inject: [{ token: JobQueues, optional: true }],
          },
        ]
      : [];
    return {
      module: MimecastModule,
      providers: [{ provide: MIMECAST_OPTIONS, useValue: serviceOptions }, MimecastPollerService, MimecastService, ...scheduler],
      exports: [MimecastPollerService, MimecastService, ...(queue ? [MimecastPollScheduler] : [])],
    };
  }
}
