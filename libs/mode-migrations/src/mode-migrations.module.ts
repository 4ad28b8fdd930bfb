import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '@mailwarden/accounts';
import { ModeMigrationRunner } from './migration-runner';
import { MODE_MIGRATIONS_OPTIONS, type ModeMigrationsOptions } from './mode-migrations.options';

/** Needs DbModule.forRoot(...) imported once by the app (it is global). */
@Module({})
export class ModeMigrationsModule {
  static forRoot(options: ModeMigrationsOptions): DynamicModule {
    return {
      module: ModeMigrationsModule,
      imports: [AccountsModule],
      providers: [{ provide: MODE_MIGRATIONS_OPTIONS, useValue: options }, ModeMigrationRunner],
      exports: [ModeMigrationRunner],
    };
  }
}
