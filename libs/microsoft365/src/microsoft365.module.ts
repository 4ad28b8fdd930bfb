import { type DynamicModule, Module } from '@nestjs/common';
import { DirectorySyncService } from './directory-sync.service';
import { MailflowHealthQueues } from './mailflow-health.workers';
import { MailflowQuickTestLauncher, MailflowQuickTestService } from './mailflow-quick-test.service';
import { MICROSOFT365_OPTIONS, type Microsoft365ModuleOptions } from './microsoft365.options';
import { Microsoft365Queues } from './microsoft365-queues';
import { Microsoft365Service } from './microsoft365.service';
import { RemediationService } from './remediation.service';

/** Microsoft 365 services for an app that already imports DbModule (admin API: requests; scanner: the workers). */
@Module({})
export class Microsoft365Module {
  static forRoot(options: Microsoft365ModuleOptions): DynamicModule {
    return {
      module: Microsoft365Module,
      providers: [
        { provide: MICROSOFT365_OPTIONS, useValue: options },
        { provide: Microsoft365Queues, useFactory: () => new Microsoft365Queues(options.queue) },
        Microsoft365Service,
        RemediationService,
        DirectorySyncService,
        // Mailflow quick test and tamper check (issue 16).
        { provide: MailflowHealthQueues, useFactory: () => new MailflowHealthQueues(options.queue) },
        MailflowQuickTestService,
        MailflowQuickTestLauncher,
      ],
      exports: [MICROSOFT365_OPTIONS, Microsoft365Queues, Microsoft365Service, RemediationService, DirectorySyncService, MailflowHealthQueues, MailflowQuickTestService, MailflowQuickTestLauncher],
    };
  }
}
