import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { AccountsModule } from '@mailwarden/accounts';
import { ModeMigrationRunner } from './migration-runner';
import { ModeMigrationQueue, ModeMigrationWorker } from './mode-migration.queue';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';

/** Starts the QueueName.ModeMigration worker with the app (`runWorker`) and stops it, and the producer, at shutdown. */
class ModeMigrationLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: ModeMigrationWorker;

  constructor(
    @Inject(MODE_MIGRATIONS_OPTIONS) private readonly options: ModeMigrationsOptions,
    private readonly runner: ModeMigrationRunner,
    @Optional() private readonly queue?: ModeMigrationQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.runWorker && this.options.queue) {
      this.worker = new ModeMigrationWorker((data) => this.runner.runQueuedStep(data), () => this.runner.requeueRunningSteps(), this.options.queue);
      await this.worker.start();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.stop();
    await this.queue?.close();
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
        ModeMigrationRunner,
        ModeMigrationLifecycle,
      ],
      exports: [ModeMigrationRunner],
    };
  }
}
