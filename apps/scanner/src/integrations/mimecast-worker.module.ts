import { type DynamicModule, Module } from '@nestjs/common';
import { MimecastModule, MimecastPollerService, MimecastService, type MimecastModuleOptions, type MimecastQueueOptions } from '@mailwarden/mimecast';
import { JobWorkers } from '@mailwarden/queue';
import { MimecastWorkerService } from './mimecast-worker.service';

/** Mimecast polling for the scanner's worker role; only loaded when SECRETS_KEY is set. */
@Module({})
export class MimecastWorkerModule {
  static forRoot(secretsKey: string, queue: MimecastQueueOptions, client?: MimecastModuleOptions['client']): DynamicModule {
    return {
      module: MimecastWorkerModule,
      imports: [MimecastModule.forRoot({ secretsKey, queue, client })],
      providers: [
        {
          provide: MimecastWorkerService,
          useFactory: (poller: MimecastPollerService, mimecast: MimecastService, workers: JobWorkers) => new MimecastWorkerService(poller, mimecast, workers),
          inject: [MimecastPollerService, MimecastService, JobWorkers],
        },
      ],
    };
  }
}
