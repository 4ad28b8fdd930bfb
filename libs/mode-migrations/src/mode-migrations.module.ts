import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { AccountsModule } from '@mailwarden/accounts';
import { JobWorkers } from '@mailwarden/queue';
import { MailflowTamperQueue, MailflowTamperWorker } from './mailflow/mailflow-tamper.queue';
import { MailflowTamperService } from './mailflow/mailflow-tamper.service';
import { ModeMigrationRunner } from './migration-runner';
import { ModeMigrationQueue, ModeMigrationWorker } from './mode-migration.queue';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';

/** Starts the QueueName.ModeMigration worker with the app (`runWorker`) and stops it, and the producer, at shutdown. */
class ModeMigrationLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: ModeMigrationWorker;
  private tamperWorker?: MailflowTamperWorker;

  constructor(
    @Inject(MODE_MIGRATIONS_OPTIONS) private readonly options: ModeMigrationsOptions,
    private readonly runner: ModeMigrationRunner,
    private readonly tamper: MailflowTamperService,
    @Optional() private readonly queue?: ModeMigrationQueue,
    @Optional() private readonly tamperQueue?: MailflowTamperQueue,
    @Optional() private readonly workers?: JobWorkers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.runWorker && this.options.queue) {
      this.worker = new ModeMigrationWorker((data) => this.runner.runQueuedStep(data), () => this.runner.requeueRunningSteps(), { ...this.options.queue, workers: this.workers });
      await this.worker.start();
      // Issue 16: the tamper checks of what the mailflow steps created run beside them.
      this.tamperWorker = new MailflowTamperWorker(this.tamper, this.tamperQueue!, { ...this.options.queue, everyMinutes: this.options.tamperCheckMinutes, reconcileEveryMs: this.options.tamperReconcileMs, workers: this.workers });
      await this.tamperWorker.start();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.stop();
    await this.tamperWorker?.stop();
    await this.queue?.close();
    await this.tamperQueue?.close();
  }
}

/**
 * Needs DbModule.forRoot(...) imported once by the app (it is global). `imports`: the app's Microsoft365Module
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
        ...(options.queue ? [{ provide: ModeMigrationQueue, useFactory: () => new ModeMigrationQueue(options.queue!) }] : []),
        ...(options.queue ? [{ provide: MailflowTamperQueue, useFactory: () => new MailflowTamperQueue(options.queue!) }] : []),
        ModeMigrationRunner,
        MailflowTamperService,
        ModeMigrationLifecycle,
      ],
      exports: [ModeMigrationRunner, MailflowTamperService, ...(options.queue ? [MailflowTamperQueue] : [])],
    };
  }
}
