import { type DynamicModule, Module } from '@nestjs/common';
import { MimecastModule, MimecastPollerService, MimecastService, type MimecastModuleOptions } from '@mailwarden/mimecast';
import { JobWorkers } from '@mailwarden/queue';
import { MimecastWorkerService } from './mimecast-worker.service';

/** Mimecast polling for the scanner's worker role; only loaded when SECRETS_KEY is set. */
@Module({})
export class MimecastWorkerModule {
  static forRoot(secretsKey: string, client?: MimecastModuleOptions['client']): DynamicModule {
    return {
      module: MimecastWorkerModule,
      imports: [MimecastModule.forRoot({ secretsKey, schedulePolls: true, client })],
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
