import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DbModule } from '@mailwarden/db';
import { Microsoft365Module, type Microsoft365ModuleOptions } from '@mailwarden/microsoft365';
import { QueueModule } from '@mailwarden/queue';
import { ModeMigrationsModule } from '../src/mode-migrations.module';
import type { ModeMigrationsOptions } from '../src/mode-migrations.options';

/**
 * The admin API's side of the automated mailflow plans, for tests: the runner with Exchange Online automated, one
 * Microsoft365Module (the quick test) and the workers of the queued Exchange steps and tamper checks, on the test's
 * database and Redis prefix (short job locks, so a stopped worker's step is taken over quickly). Initialised.
 */
export async function startMailflowAutomation(input: {
  databaseUrl: string;
  redis: { url: string; prefix: string };
  microsoft365: Microsoft365ModuleOptions;
  options: Omit<ModeMigrationsOptions, 'queue' | 'runWorker'>;
}): Promise<INestApplicationContext> {
  const microsoft365 = Microsoft365Module.forRoot(input.microsoft365);
  const context = await NestFactory.createApplicationContext(
    {
      module: class MailflowAutomationTestModule {},
      imports: [
        DbModule.forRoot({ databaseUrl: input.databaseUrl, poolSize: 6 }),
        QueueModule.forRoot({ redisUrl: input.redis.url, prefix: input.redis.prefix }),
        microsoft365,
        ModeMigrationsModule.forRoot({ ...input.options, queue: { stalledIntervalMs: 1000, lockDurationMs: 2000 }, runWorker: true }, [microsoft365]),
      ],
    },
    { logger: false },
  );
  await context.init();
  return context;
}
