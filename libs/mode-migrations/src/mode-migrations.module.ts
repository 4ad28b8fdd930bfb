import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { AccountsModule } from '@mailwarden/accounts';
import { JobQueues, JobWorkers } from '@mailwarden/queue';
import { MailflowTamperQueue, MailflowTamperWorker } from './mailflow/mailflow-tamper.queue';
import { MailflowTamperService } from './mailflow/mailflow-tamper.service';
import { ModeMigrationRunner } from './migration-runner';
import { ModeMigrationQueue, ModeMigrationWorker } from './mode-migration.queue';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';

/** Starts the QueueName.ModeMigration and tamper-check workers with the app (`runWorker`) and stops them at shutdown. */
class ModeMigrationLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: ModeMigrationWorker;
  private tamperWorker?: MailflowTamperWorker;

  constructor(
    @Inject(MODE_MIGRATIONS_OPTIONS) private readonly options: ModeMigrationsOptions,
    private readonly runner: ModeMigrationRunner,
    private readonly tamper: MailflowTamperService,
    @Optional() private readonly tamperQueue?: MailflowTamperQueue,
    @Optional() private readonly workers?: JobWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.runWorker && this.options.queue) {
      if (!this.workers) {
        throw new Error('ModeMigrationsModule with runWorker needs the app to import QueueModule.forRoot (its JobWorkers)');
      }
      this.worker = new ModeMigrationWorker((data) => this.runner.runQueuedStep(data), () => this.runner.requeueRunningSteps(), this.workers, this.options.queue);
      await this.worker.start();
      // Issue 16: the tamper checks of what the mailflow steps created run beside them.
      this.tamperWorker = new MailflowTamperWorker(this.tamper, this.tamperQueue!, this.workers, { everyMinutes: this.options.tamperCheckMinutes, reconcileEveryMs: this.options.tamperReconcileMs });
      await this.tamperWorker.start();
    }
  }

  /** The queues themselves are the app's (QueueModule closes them). */
  async onModuleDestroy(): Promise<void> {
    await this.worker?.stop();
    await this.tamperWorker?.stop();
  }
}

/**
 * Needs DbModule.forRoot(...) imported once by the app (it is global), and QueueModule.forRoot(...) with `queue`. `imports`: the app's Microsoft365Module
 * (the same DynamicModule object the app imports) when the mailflow plans may automate Exchange Online.
 */
@Module({})
export class ModeMigrationsModule {
  static forRoot(options: ModeMigrationsOptions, imports: DynamicModule[] = []): DynamicModule {
    return {
      module: ModeMigrationsModule,
      imports: [AccountsModule, ...imports],
      providers: [
        { provide: MODE_MIGRATIONS_OPTIONS, useValue: options },
        // The app's JobQueues (QueueModule): one connection, prefix and set of job defaults for every producer.
        ...(options.queue
          ? [
              { provide: ModeMigrationQueue, useFactory: (queues: JobQueues) => new ModeMigrationQueue(queues), inject: [JobQueues] },
              { provide: MailflowTamperQueue, useFactory: (queues: JobQueues) => new MailflowTamperQueue(queues), inject: [JobQueues] },
            ]
          : []),
        ModeMigrationRunner,
        MailflowTamperService,
        ModeMigrationLifecycle,
      ],
      exports: [ModeMigrationRunner, MailflowTamperService, ...(options.queue ? [MailflowTamperQueue] : [])],
    };
  }
}
