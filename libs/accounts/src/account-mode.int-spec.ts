import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client, type DatabaseError } from 'pg';
import { AccountRepository, AuditRepository, DbModule, DomainRepository, PrismaService } from '@mailwarden/db';
// The last no-restricted-imports block of eslint.config.mjs does not exempt test files the way the earlier one does,
// although STYLE.md §2 allows @mailwarden/testing in *.int-spec.ts; see the issue note.
import { TestFactories, createTestDatabase, type TestDatabase } from '@mailwarden/testing';
import { AccountModeService } from './account-mode.service';
import { AccountRuleCode, AccountRuleException, accountRuleCodeOfDatabaseError } from './account-rules.errors';
import { AccountsModule } from './accounts.module';

/** Runs SQL on a connection of its own and returns the PostgreSQL error it raised (fails the test if none). */
async function pgError(client: Client, sql: string, params: unknown[] = []): Promise<DatabaseError> {
  try {
    await client.query(sql, params);
  } catch (error) {
    return error as DatabaseError;
  }
  throw new Error(`expected the database to refuse: ${sql}`);
}

describe('domain mode rules in the database (migration 20261125160000_domain_mode_rules)', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let sql: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql.end();
    await db.drop();
  });

  it('should refuse inserting a GATEWAY or MAILFLOW domain into a monitor-only account with check_violation', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    for (const mode of ['GATEWAY', 'MAILFLOW']) {
      const error = await pgError(
        sql,
        `INSERT INTO "domain" ("account_id", "name", "mode", "verification_token") VALUES ($1, $2, $3::"DomainMode", 't')`,
        [account.id, `${mode.toLowerCase()}.refused.example`, mode],
      );
      expect(error.code).toBe('23514');
      expect(error.constraint).toBe('domain_mode_requires_enforced_account');
      expect(error.message).toBe(
        `domain "${mode.toLowerCase()}.refused.example" cannot be set to ${mode} mode: account ${account.id} is monitor-only, which allows JOURNAL mode only`,
      );
      expect(error.hint).toBe('Turn monitor-only off for the account first, then change the domain mode.');
    }
    expect(await db.prisma.domain.count({ where: { accountId: account.id } })).toBe(0);
  });

  it('should refuse updating a domain of a monitor-only account out of JOURNAL, also through Prisma', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    const domain = await factories.newDomain(account, { name: 'journal-only.example' });
    const error = await pgError(sql, `UPDATE "domain" SET "mode" = 'GATEWAY' WHERE "id" = $1`, [domain.id]);
    expect(error.code).toBe('23514');

    const viaPrisma = db.prisma.domain.update({ where: { id: domain.id }, data: { mode: 'MAILFLOW' } });
    await expect(viaPrisma).rejects.toThrow(/domain "journal-only\.example" cannot be set to MAILFLOW mode: account .* is monitor-only/);
    expect(accountRuleCodeOfDatabaseError(await viaPrisma.catch((caught: unknown) => caught))).toBe(AccountRuleCode.MonitorOnlyAllowsJournalOnly);
    expect((await db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } })).mode).toBe('JOURNAL');
  });

  it('should refuse moving a GATEWAY domain into a monitor-only account', async () => {
    const enforced = await factories.newAccount({ monitorOnly: false });
    const monitorOnly = await factories.newAccount({ monitorOnly: true });
    const domain = await factories.newDomain(enforced, { name: 'moving.example', mode: 'GATEWAY' });
    const error = await pgError(sql, `UPDATE "domain" SET "account_id" = $1 WHERE "id" = $2`, [monitorOnly.id, domain.id]);
    expect(error.constraint).toBe('domain_mode_requires_enforced_account');
  });

  it('should refuse switching an account to monitor-only while it has GATEWAY or MAILFLOW domains, naming them', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'b-mailflow.example', mode: 'MAILFLOW' });
    await factories.newDomain(account, { name: 'a-gateway.example', mode: 'GATEWAY' });
    await factories.newDomain(account, { name: 'c-journal.example', mode: 'JOURNAL' });
    const error = await pgError(sql, `UPDATE "account" SET "monitor_only" = true WHERE "id" = $1`, [account.id]);
    expect(error.code).toBe('23514');
    expect(error.constraint).toBe('account_monitor_only_requires_journal_domains');
    expect(error.message).toBe(
      `account ${account.id} cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains: a-gateway.example (GATEWAY), b-mailflow.example (MAILFLOW)`,
    );
    expect(error.hint).toBe('Move every domain back to JOURNAL mode first, then turn monitor-only on.');
    await expect(db.prisma.account.update({ where: { id: account.id }, data: { monitorOnly: true } })).rejects.toThrow(
      /cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains/,
    );
    expect((await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).monitorOnly).toBe(false);
  });

  it('should allow the legal orders: Advanced → monitor-only (domains to JOURNAL first) and back (monitor-only off first)', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const gateway = await factories.newDomain(account, { name: 'legal-gw.example', mode: 'GATEWAY' });
    const mailflow = await factories.newDomain(account, { name: 'legal-mf.example', mode: 'MAILFLOW' });

    await sql.query(`UPDATE "domain" SET "mode" = 'JOURNAL' WHERE "account_id" = $1`, [account.id]);
    await sql.query(`UPDATE "account" SET "monitor_only" = true WHERE "id" = $1`, [account.id]);
    // Unrelated updates of a monitor-only account and of its JOURNAL domains are not affected.
    await sql.query(`UPDATE "account" SET "name" = 'renamed', "monitor_only" = true WHERE "id" = $1`, [account.id]);
    await sql.query(`UPDATE "domain" SET "downstream_host" = 'mx.example' WHERE "id" = $1`, [gateway.id]);

    await sql.query(`UPDATE "account" SET "monitor_only" = false WHERE "id" = $1`, [account.id]);
    await sql.query(`UPDATE "domain" SET "mode" = 'GATEWAY' WHERE "id" = $1`, [gateway.id]);
    await sql.query(`UPDATE "domain" SET "mode" = 'MAILFLOW' WHERE "id" = $1`, [mailflow.id]);
    const rows = await db.prisma.domain.findMany({ where: { accountId: account.id }, orderBy: { name: 'asc' } });
    expect(rows.map((row) => row.mode)).toEqual(['GATEWAY', 'MAILFLOW']);
  });

  it('should serialize a concurrent "domain → GATEWAY" and "account → monitor-only" so that the second is refused', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: 'race.example', mode: 'JOURNAL' });
    const first = new Client({ connectionString: db.url });
    const second = new Client({ connectionString: db.url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('BEGIN');
      await first.query(`UPDATE "domain" SET "mode" = 'GATEWAY' WHERE "id" = $1`, [domain.id]);
      await second.query('BEGIN');
      // Blocks on the account row the first transaction's trigger holds FOR SHARE, then sees its commit.
      const switching = second.query(`UPDATE "account" SET "monitor_only" = true WHERE "id" = $1`, [account.id]).then(
        () => null,
        (error: DatabaseError) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      await first.query('COMMIT');
      const error = await switching;
      await second.query('ROLLBACK');
      expect(error?.constraint).toBe('account_monitor_only_requires_journal_domains');
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });

  it('should hold a domain name verified in one account only, unverified in any number (domain_name_verified_key)', async () => {
    const one = await factories.newAccount({ monitorOnly: false });
    const two = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(one, { name: 'shared.example', verified: true });
    await sql.query(`INSERT INTO "domain" ("account_id", "name", "mode", "verification_token") VALUES ($1, 'shared.example', 'GATEWAY', 't')`, [two.id]);
    const error = await pgError(sql, `UPDATE "domain" SET "verification_status" = 'VERIFIED' WHERE "account_id" = $1`, [two.id]);
    expect(error.code).toBe('23505');
  });
});

describe(AccountModeService.name, () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let prisma: PrismaService;
  let accounts: AccountRepository;
  let domains: DomainRepository;
  let service: AccountModeService;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    prisma = new PrismaService({ databaseUrl: db.url, poolSize: 4 });
    await prisma.onModuleInit();
    const audit = new AuditRepository(prisma);
    accounts = new AccountRepository(prisma, audit);
    domains = new DomainRepository(prisma, audit);
    service = new AccountModeService(accounts, domains);
  });

  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(AccountRuleException);
        return error as AccountRuleException;
      },
    );

  it('should walk Advanced → monitor-only in the legal order and refuse the illegal one with reason codes', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const domain = await factories.newDomain(account, { name: 'svc-gw.example', mode: 'GATEWAY' });

    expect((await refusal(service.setMonitorOnly(account.id, true))).code).toBe(AccountRuleCode.EnforcingDomainsPresent);
    expect((await service.setDomainMode(domain.id, 'JOURNAL')).mode).toBe('JOURNAL');
    expect((await service.setMonitorOnly(account.id, true)).monitorOnly).toBe(true);
    expect(await service.isEnforced(account.id)).toBe(false);

    const refused = await refusal(service.setDomainMode(domain.id, 'MAILFLOW'));
    expect(refused.code).toBe(AccountRuleCode.MonitorOnlyAllowsJournalOnly);
    expect(refused.message).toMatch(/svc-gw\.example cannot be set to MAILFLOW mode while the account is monitor-only/);

    await service.setMonitorOnly(account.id, false);
    expect((await service.setDomainMode(domain.id, 'MAILFLOW')).mode).toBe('MAILFLOW');
    expect(await service.isEnforced(account.id)).toBe(true);
  });

  it('should turn a database trigger refusal into the same typed exception when code is bypassed', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    const domain = await factories.newDomain(account, { name: 'bypass.example' });
    const raw = await accounts
      .withAccountLock(account.id, (tx) => domains.updateMode(tx, domain.id, { mode: 'GATEWAY' }))
      .catch((error: unknown) => error);
    expect(accountRuleCodeOfDatabaseError(raw)).toBe(AccountRuleCode.MonitorOnlyAllowsJournalOnly);
  });

  it('should check a new domain name against the account only: another account holding it, even verified, is no refusal', async () => {
    const owner = await factories.newAccount({ monitorOnly: false });
    const other = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(owner, { name: 'taken.example' });
    expect(await service.checkNewDomain(other.id, 'Taken.Example', 'JOURNAL')).toEqual({ ok: true });
    expect(await service.checkNewDomain(owner.id, 'Taken.Example', 'JOURNAL')).toMatchObject({ ok: false, code: AccountRuleCode.DomainAlreadyConnected });
    expect(await service.checkNewDomain(other.id, 'free.example', 'GATEWAY')).toMatchObject({
      ok: false,
      code: AccountRuleCode.MonitorOnlyAllowsJournalOnly,
    });
    expect(await service.checkNewDomain(other.id, 'free.example', 'JOURNAL')).toEqual({ ok: true });
  });

  it('should answer not found for unknown or malformed ids', async () => {
    expect((await refusal(service.setMonitorOnly('00000000-0000-4000-8000-000000000000', true))).code).toBe(AccountRuleCode.AccountNotFound);
    expect((await refusal(service.setMonitorOnly('not-a-uuid', true))).code).toBe(AccountRuleCode.AccountNotFound);
    expect((await refusal(service.setDomainMode('not-a-uuid', 'JOURNAL'))).code).toBe(AccountRuleCode.DomainNotFound);
  });

  it('should decide direction with verified domains only, from the arrival evidence', async () => {
    const account = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(account, { name: 'verified-own.example' });
    await factories.newDomain(account, { name: 'pending-own.example', verified: false });
    const inside = { enteredFromOutside: false, basis: 'no-provider-edge-hop' } as const;
    expect((await service.decideDirection(account.id, 'a@verified-own.example', ['b@VERIFIED-own.example'], inside)).direction).toBe('INTERNAL');
    expect((await service.decideDirection(account.id, 'a@pending-own.example', ['b@verified-own.example'], inside)).direction).toBe('INBOUND');
    expect((await service.decideDirection(account.id, '<>', ['b@pending-own.example'], inside)).direction).toBe('EXTERNAL');
    // The same own-domain pair that entered from outside is inbound.
    const edge = { enteredFromOutside: true, basis: 'provider-edge-hop', detail: 'from x (192.0.2.1) by y.mail.protection.outlook.com' } as const;
    expect((await service.decideDirection(account.id, 'a@verified-own.example', ['b@verified-own.example'], edge)).direction).toBe('INBOUND');
  });
});

describe(AccountsModule.name, () => {
  let db: TestDatabase;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  it('should provide AccountModeService through Nest DI on top of DbModule', async () => {
    const app = await NestFactory.createApplicationContext(
      { module: class AccountsTestModule {}, imports: [DbModule.forRoot({ databaseUrl: db.url, poolSize: 2 }), AccountsModule] },
      { logger: false },
    );
    try {
      const account = await new TestFactories(db.prisma).newAccount({ monitorOnly: false });
      const service = app.get(AccountModeService);
      expect(await service.isEnforced(account.id)).toBe(true);
    } finally {
      await app.close();
    }
  });
});
