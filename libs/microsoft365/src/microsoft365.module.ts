import { type DynamicModule, Module } from '@nestjs/common';
import { JobQueues } from '@mailwarden/queue';
import { DirectorySyncService } from './directory-sync.service';
import { MailflowHealthQueues } from './mailflow-health.workers';
import { MailflowQuickTestLauncher, MailflowQuickTestService } from './mailflow-quick-test.service';
import { MICROSOFT365_OPTIONS, type Microsoft365ModuleOptions } from './microsoft365.options';
import { Microsoft365Queues } from './microsoft365-queues';
import { Microsoft365Service } from './microsoft365.service';
import { RemediationService } from './remediation.service';

/**
 * Microsoft 365 services for an app that already imports DbModule and QueueModule (admin API: requests; scanner: the
 * workers). Its producers add their jobs through the app's JobQueues.
 */
@Module({})
export class Microsoft365Module {
  static forRoot(options: Microsoft365ModuleOptions): DynamicModule {
    return {
      module: Microsoft365Module,
      providers: [
        { provide: MICROSOFT365_OPTIONS, useValue: options },
        { provide: Microsoft365Queues, useFactory: (queues: JobQueues) => new Microsoft365Queues(queues), inject: [JobQueues] },
        Microsoft365Service,
        RemediationService,
        DirectorySyncService,
        // Mailflow quick test and tamper check (issue 16).
        { provide: MailflowHealthQueues, useFactory: (queues: JobQueues) => new MailflowHealthQueues(queues), inject: [JobQueues] },
        MailflowQuickTestService,
        MailflowQuickTestLauncher,
      ],
      exports: [MICROSOFT365_OPTIONS, Microsoft365Queues, Microsoft365Service, RemediationService, DirectorySyncService, MailflowHealthQueues, MailflowQuickTestService, MailflowQuickTestLauncher],
    };
  }
}
