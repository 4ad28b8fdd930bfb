import { type INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { DbModule } from '@mailwarden/db';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { ModeMigrationRunner } from './migration-runner';
import { MigrationErrorCode, MigrationException } from './mode-migration.errors';
import { ModeMigrationsModule } from './mode-migrations.module';

const actor = { actor: 'test', actorKeyId: null };

describe(ModeMigrationRunner.name, () => {
  let db: TestDatabase;
  let context: INestApplicationContext;
  let runner: ModeMigrationRunner;
  let factories: TestFactories;
  const mx = new Map<string, Array<{ exchange: string; priority: number }>>();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    context = await NestFactory.createApplicationContext(
      {
        module: class RunnerTestModule {},
        imports: [
          DbModule.forRoot({ databaseUrl: db.url, poolSize: 6 }),
          ModeMigrationsModule.forRoot({
            journalDomain: 'journal.test',
            journalQuietPeriodMs: 0,
            resolveDns: async (name) => {
              const answer = mx.get(name);
              if (!answer) {
                throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
              }
              return answer;
            },
          }),
        ],
      },
      { logger: false },
    );
    runner = context.get(ModeMigrationRunner);
  });

  afterAll(async () => {
    await context?.close();
    await db?.drop();
  });

  it('should fail an automated step with its error, refuse to advance past it, and go on after a retry', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    const domain = await factories.newDomain(account, { name: 'retry.example' });
    const migration = await runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' }, actor);
    // The domain loses its verification between planning and advancing.
    await db.prisma.domain.update({ where: { id: domain.id }, data: { verificationStatus: 'PENDING' } });
    const failed = await runner.advance(account.id, migration.id, actor);
    expect(failed.status).toBe('FAILED');
    expect(failed.steps[0]).toMatchObject({ key: 'disconnect-domains-from-journaling', status: 'FAILED', attempts: 1, lastError: 'domains not verified: retry.example' });
    await expect(runner.advance(account.id, migration.id, actor)).rejects.toMatchObject({ code: MigrationErrorCode.MigrationFailed });

    await db.prisma.domain.update({ where: { id: domain.id }, data: { verificationStatus: 'VERIFIED' } });
    const retried = await runner.retry(account.id, migration.id, actor);
    expect(retried.status).toBe('WAITING');
    expect(retried.steps.map((step) => step.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'WAITING_FOR_ADMIN']);
    expect(retried.steps[0]!.attempts).toBe(2);
    // The mailflow quick test is not built: only the admin's acknowledgement finishes the plan, and it is recorded.
    const acknowledged = await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    expect(acknowledged.status).toBe('COMPLETED');
    expect(acknowledged.steps[4]!.result).toMatchObject({ passed: false, available: false, acknowledgedByAdmin: true });
    expect(await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).toMatchObject({ mode: 'MAILFLOW' });
    const failures = await db.prisma.auditEvent.findMany({ where: { objectId: migration.id, action: { in: ['mode_migration.step_failed', 'mode_migration.step_retried'] } } });
    expect(failures.map((event) => event.action).sort()).toEqual(['mode_migration.step_failed', 'mode_migration.step_retried']);
  });

  it('should re-run automated steps whose record was lost without changing anything again (steps are idempotent)', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: 'crash.example', mode: 'GATEWAY' });
    mx.set('crash.example', [{ exchange: 'mail.crash.example', priority: 10 }]);
    const migration = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY', gatewayMxHost: 'mx.mailwarden.test' }, actor);
    const advanced = await runner.advance(account.id, migration.id, actor);
    expect(advanced.steps.map((step) => step.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'WAITING_FOR_ADMIN']);
    // Steps are recorded with their change in one transaction; should a record still go missing, the re-run is a no-op.
    await db.prisma.modeMigrationStep.updateMany({ where: { migrationId: migration.id, position: { gte: 2 } }, data: { status: 'PENDING', completedAt: null } });
    await db.prisma.modeMigration.update({ where: { id: migration.id }, data: { status: 'RUNNING' } });
    const resumed = await runner.advance(account.id, migration.id, actor);
    expect(resumed.steps[2]).toMatchObject({ status: 'DONE', result: { monitorOnly: true, changed: false } });
    expect(resumed.steps[3]).toMatchObject({ status: 'DONE', result: { changed: [] } });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: true });
    expect(await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).toMatchObject({ mode: 'JOURNAL' });
  });

  it('should record a mode change the account rules refuse as a FAILED step, and finish after the cause is fixed', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'planned.example', mode: 'MAILFLOW' });
    const migration = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY' }, actor);
    // A gateway domain connected after planning would be left enforcing: monitor-only must be refused.
    const late = await factories.newDomain(account, { name: 'late.example', mode: 'GATEWAY' });
    const failed = await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    expect(failed.status).toBe('FAILED');
    expect(failed.steps[2]).toMatchObject({ key: 'turn-monitor-only-on', status: 'FAILED', lastError: expect.stringMatching(/late\.example \(GATEWAY\)/) });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: false });
    await db.prisma.domain.delete({ where: { id: late.id } });
    const retried = await runner.retry(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    expect(retried.steps.map((step) => step.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'WAITING_FOR_ADMIN']);
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: true });
  });

  it("should hold each account's migrations behind pg_advisory_xact_lock(hashtext(accountId))", async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'locked.example' });
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [account.id]);
      let settled = false;
      const planning = runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' }, actor).finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await holder.query('COMMIT');
      expect((await planning).status).toBe('PLANNED');
    } finally {
      await holder.end();
    }
  });

  it('should answer not found for another account\'s migration', async () => {
    const owner = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(owner, { name: 'owner.example' });
    const other = await factories.newAccount({ monitorOnly: true });
    const migration = await runner.plan(owner.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' }, actor);
    await expect(runner.get(other.id, migration.id)).rejects.toBeInstanceOf(MigrationException);
    await expect(runner.advance(other.id, migration.id, actor)).rejects.toMatchObject({ code: MigrationErrorCode.MigrationNotFound });
  });
});
