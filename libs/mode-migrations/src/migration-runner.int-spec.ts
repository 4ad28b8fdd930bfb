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

  const statuses = (migration: { steps: Array<{ status: string }> }) => migration.steps.map((step) => step.status);
  const domainRow = (id: string) => db.prisma.domain.findUniqueOrThrow({ where: { id } });

  it('should fail an automated step with its error, refuse to advance past it, and go on after a retry', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'planned.example', mode: 'MAILFLOW' });
    const migration = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: 0 }, actor);
    await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['x@planned.example'] });
    await runner.advance(account.id, migration.id, actor); // overlap opened; journal setup waits for a copy after it started
    await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['x@planned.example'] });
    // A gateway domain connected after planning would be left enforcing: monitor-only must be refused.
    const late = await factories.newDomain(account, { name: 'late.example', mode: 'GATEWAY' });
    const failed = await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    expect(failed.status).toBe('FAILED');
    expect(failed.steps[4]).toMatchObject({ key: 'turn-monitor-only-on', status: 'FAILED', attempts: 1, lastError: expect.stringMatching(/late\.example \(GATEWAY\)/) });
    await expect(runner.advance(account.id, migration.id, actor)).rejects.toMatchObject({ code: MigrationErrorCode.MigrationFailed });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: false });

    await db.prisma.domain.delete({ where: { id: late.id } });
    const retried = await runner.retry(account.id, migration.id, actor);
    expect(retried.status).toBe('COMPLETED');
    expect(retried.steps[4]!.attempts).toBe(2);
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: true });
    const failures = await db.prisma.auditEvent.findMany({ where: { objectId: migration.id, action: { in: ['mode_migration.step_failed', 'mode_migration.step_retried'] } } });
    expect(failures.map((event) => event.action).sort()).toEqual(['mode_migration.step_failed', 'mode_migration.step_retried']);
  });

  it('should re-run automated steps whose record was lost without changing anything again (steps are idempotent)', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: 'crash.example', mode: 'GATEWAY' });
    mx.set('crash.example', [{ exchange: 'mail.crash.example', priority: 10 }]);
    const migration = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY', gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 0 }, actor);
    await runner.advance(account.id, migration.id, actor);
    await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['x@crash.example'] });
    const advanced = await runner.advance(account.id, migration.id, actor);
    expect(advanced.status).toBe('COMPLETED');
    // Steps are recorded with their change in one transaction; should a record still go missing, the re-run is a no-op.
    await db.prisma.modeMigrationStep.updateMany({ where: { migrationId: migration.id, position: { in: [3, 4] } }, data: { status: 'PENDING', completedAt: null } });
    await db.prisma.modeMigration.update({ where: { id: migration.id }, data: { status: 'RUNNING' } });
    const resumed = await runner.advance(account.id, migration.id, actor);
    expect(resumed.steps[3]).toMatchObject({ status: 'DONE', result: { changed: [] } });
    expect(resumed.steps[4]).toMatchObject({ status: 'DONE', result: { monitorOnly: true, changed: false } });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: true });
    expect(await domainRow(domain.id)).toMatchObject({ mode: 'JOURNAL', transitionMode: null });
  });

  it('should keep the old path open until it is verified quiet: Gateway → Mailflow never switches on an acknowledgement alone', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: 'g2m.example', mode: 'GATEWAY' });
    mx.set('g2m.example', [{ exchange: 'mx.mailwarden.test', priority: 10 }]);
    const migration = await runner.plan(account.id, { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 0 }, actor);
    const opened = await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    // Overlap open, one unverifiable step acknowledged, then the connector check (available) waits: no switch.
    expect(statuses(opened)).toEqual(['DONE', 'DONE', 'WAITING_FOR_ADMIN', 'PENDING', 'PENDING', 'PENDING', 'PENDING', 'PENDING']);
    expect(opened.steps[2]!.result).toMatchObject({ passed: false, available: true });
    expect(await domainRow(domain.id)).toMatchObject({ mode: 'GATEWAY', transitionMode: 'MAILFLOW' });
    const again = await runner.advance(account.id, migration.id, actor, { acknowledgeUnverifiable: true });
    expect(again.steps[2]!.status).toBe('WAITING_FOR_ADMIN');

    await db.prisma.mailflowConnector.create({ data: { accountId: account.id, sourceIps: ['203.0.113.0/24'] } });
    const quickTest = await runner.advance(account.id, migration.id, actor);
    expect(statuses(quickTest).slice(2, 4)).toEqual(['DONE', 'WAITING_FOR_ADMIN']);
    // Mail through the connector of another domain does not count; mail of the domain being moved does.
    await factories.newMessage(account, { source: 'MAILFLOW', envelopeTo: ['x@elsewhere.example'] });
    expect((await runner.advance(account.id, migration.id, actor)).steps[3]!.status).toBe('WAITING_FOR_ADMIN');
    await factories.newMessage(account, { source: 'MAILFLOW', envelopeTo: ['x@g2m.example'] });
    const switched = await runner.advance(account.id, migration.id, actor);
    expect(statuses(switched).slice(3, 6)).toEqual(['DONE', 'DONE', 'WAITING_FOR_ADMIN']);
    // Switched, and the MX path still accepted (transition) while MX names Mailwarden.
    expect(await domainRow(domain.id)).toMatchObject({ mode: 'MAILFLOW', transitionMode: 'GATEWAY' });

    mx.set('g2m.example', [{ exchange: 'g2m-example.mail.protection.outlook.com', priority: 0 }]);
    const done = await runner.advance(account.id, migration.id, actor);
    expect(done.status).toBe('COMPLETED');
    expect(await domainRow(domain.id)).toMatchObject({ mode: 'MAILFLOW', transitionMode: null });
  });

  it('should scope the journal wait to the domains moved, restart it on retry, take the quiet period per plan, and let the admin skip it with the risk stated', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    const moving = await factories.newDomain(account, { name: 'moving.example', mode: 'JOURNAL', downstreamHost: 'smarthost.moving.example' });
    await factories.newDomain(account, { name: 'staying.example', mode: 'JOURNAL' });
    mx.set('moving.example', [{ exchange: 'mx.mailwarden.test', priority: 10 }]);
    const migration = await runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY', domainIds: [moving.id], gatewayMxHost: 'mx.mailwarden.test', quietPeriodSeconds: 3600 }, actor);
    expect(migration.params).toMatchObject({ quietPeriodMs: 3_600_000 });
    const waiting = await runner.advance(account.id, migration.id, actor);
    expect(statuses(waiting)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'WAITING_FOR_ADMIN']);
    // disconnect-domains-from-journaling did something: the domain no longer takes journal copies.
    expect(waiting.steps[4]!.result).toMatchObject({ disconnected: ['moving.example'] });
    expect(await domainRow(moving.id)).toMatchObject({ mode: 'GATEWAY', transitionMode: null });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ monitorOnly: false });

    // Journal copies of the domain that stays in JOURNAL mode do not hold the wait; one of the moving domain does.
    await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['a@staying.example'] });
    expect((await runner.advance(account.id, migration.id, actor)).steps[5]!.result).toMatchObject({ passed: false, evidence: { lastSeenMessageId: null } });
    const late = await factories.newMessage(account, { source: 'JOURNAL', envelopeTo: ['a@moving.example'] });
    expect((await runner.advance(account.id, migration.id, actor)).steps[5]!.result).toMatchObject({ passed: false, evidence: { lastSeenMessageId: late.id } });
    // Retry restarts the wait: the copy that arrived before the retry no longer counts.
    const before = (await runner.get(account.id, migration.id)).steps[5]!.startedAt!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retried = await runner.retry(account.id, migration.id, actor);
    expect(retried.steps[5]!.startedAt!.getTime()).toBeGreaterThan(before.getTime());
    expect(retried.steps[5]!.result).toMatchObject({ passed: false, evidence: { lastSeenMessageId: null } });
    // The hour is not over: the admin may skip the wait, and the risk is recorded.
    const skipped = await runner.advance(account.id, migration.id, actor, { acknowledgeRisk: true });
    expect(skipped.status).toBe('COMPLETED');
    expect(skipped.steps[5]!.result).toMatchObject({ passed: false, acknowledgedByAdmin: true, acknowledgedRisk: expect.stringMatching(/out of scope/) });
  });

  it('should remember gatewayMxHost from the account\'s earlier plan instead of asking again', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    const domain = await factories.newDomain(account, { name: 'remember.example', mode: 'JOURNAL', downstreamHost: 'smarthost.remember.example' });
    mx.set('remember.example', [{ exchange: 'mx.mailwarden.test', priority: 10 }]);
    const there = await runner.plan(account.id, { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY', gatewayMxHost: 'MX.Mailwarden.Test.', quietPeriodSeconds: 0 }, actor);
    expect((await runner.advance(account.id, there.id, actor)).status).toBe('COMPLETED');
    expect(await domainRow(domain.id)).toMatchObject({ mode: 'GATEWAY' });
    const back = await runner.plan(account.id, { kind: 'ADVANCED_TO_MONITOR_ONLY' }, actor);
    expect(back.params).toMatchObject({ gatewayMxHost: 'mx.mailwarden.test' });
    await runner.cancel(account.id, back.id, actor);
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
