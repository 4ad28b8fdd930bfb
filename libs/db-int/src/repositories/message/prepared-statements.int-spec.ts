import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import {
  createPrismaClient,
  DeliveryRepository,
  type IncomingMessage,
  MessageRepository,
  PostgresRawMessageStore,
  preparedSql,
  Prisma,
  type PrismaClient,
  type PrismaService,
  quoteIdentifier,
  RetentionRepository,
  sqlQuery,
  sqlSession,
  sqlTransaction,
  type Account,
} from '@mailwarden/db';

/**
 * The hot statements run as named prepared statements (`preparedSql`, libs/db/src/sql.ts): parsed once per pool
 * connection, their generic plan kept (forced here: plan_cache_mode = force_generic_plan for the whole database). On a
 * pool of ONE connection, so every statement meets what the ones before it left there.
 */
describe('named prepared statements on the hot path', () => {
  let db: TestDatabase;
  let one: PrismaClient;
  let account: Account;
  let messages: MessageRepository;
  let delivery: DeliveryRepository;
  let serial = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.prisma.$executeRawUnsafe(`ALTER DATABASE ${quoteIdentifier(new URL(db.url).pathname.slice(1))} SET plan_cache_mode = force_generic_plan`);
    one = createPrismaClient({ databaseUrl: db.url, poolSize: 1 });
    // Connected through Prisma too, so that $disconnect ends the pool (the adapter's) at the end.
    await one.$connect();
    account = await new TestFactories(db.prisma).newAccount();
    messages = new MessageRepository(one as unknown as PrismaService, new PostgresRawMessageStore());
    delivery = new DeliveryRepository(one as unknown as PrismaService, new PostgresRawMessageStore());
  });

  afterAll(async () => {
    await one?.$disconnect();
    await db?.drop();
  });

  const copy = (): IncomingMessage => {
    serial += 1;
    return {
      accountId: account.id,
      source: 'JOURNAL',
      direction: 'INBOUND',
      envelopeFrom: 'a@sender.example',
      envelopeTo: ['b@customer.example'],
      messageIdHeader: `<${serial}@sender.example>`,
      dedupKey: `<${serial}@sender.example>|b@customer.example`,
      raw: Buffer.from(`Subject: ${serial}\r\n\r\nbody`),
    };
  };
  const verdict = { recipient: 'b@customer.example', checks: {}, decidedAction: 'DELIVER' as const, enforced: false, reasons: [] };
  /** The journal path and the gateway's store once each; the message's verdicts, counted. */
  const messagePath = async (): Promise<void> => {
    const stored = await messages.storeIncoming(copy());
    expect(await messages.saveVerdicts({ id: stored.message.id, accountId: account.id }, [verdict])).toEqual({ alreadyScanned: false });
    expect(await messages.saveVerdicts({ id: stored.message.id, accountId: account.id }, [verdict])).toEqual({ alreadyScanned: true });
    await delivery.storeProcessed({ ...copy(), source: 'GATEWAY' }, [verdict], 'SCANNED', [{ recipient: 'b@customer.example', action: 'DELIVER', state: 'QUEUED' }]);
    expect(await db.prisma.verdict.count({ where: { messageId: stored.message.id } })).toBe(1);
  };
  const connection = async () => {
    const [row] = await sqlQuery<{ pid: number; names: string[]; generic: boolean }>(
      one,
      Prisma.sql`SELECT pg_backend_pid() AS "pid", coalesce(array_agg("name" ORDER BY "name"), '{}') AS "names",
        current_setting('plan_cache_mode') = 'force_generic_plan' AS "generic" FROM pg_prepared_statements`,
    );
    return row!;
  };

  it('should parse each hot statement once per connection, duplicates and exactly-one verdicts unchanged', async () => {
    await messagePath();
    const first = await connection();
    expect(first.generic).toBe(true);
    // The journal store of one copy, the verdict write, the gateway's store of one message.
    expect(first.names).toHaveLength(3);
    expect(first.names.every((name) => /^mw_[0-9a-f]{30}$/.test(name))).toBe(true);
    serial -= 1;
    const again = copy();
    // The last copy's dedup key: the prepared store fails on "message_dedup" and the copy is reported as the earlier one.
    expect((await messages.storeIncoming(again)).duplicate).toBe(true);
    await messagePath();
    // A failed statement closes its pool connection (pg-pool), so the store above may have run on a new one: the same names.
    expect((await connection()).names).toEqual(first.names);
  });

  it('should prepare group commits of up to 8 copies only (PREPARED_STORE_MAX_MESSAGES): one text per size', async () => {
    await messagePath();
    const { names } = await connection();
    const stored = await messages.storeIncomingMany(Array.from({ length: 9 }, copy));
    expect(stored.every((outcome) => outcome.status === 'fulfilled' && !outcome.value.duplicate)).toBe(true);
    expect((await connection()).names).toEqual(names);
    await messages.storeIncomingMany(Array.from({ length: 8 }, copy));
    expect((await connection()).names).toHaveLength(names.length + 1);
  });

  it('should keep working when retention attaches and drops partitions between executions', async () => {
    await messagePath();
    const { names } = await connection();
    const retention = new RetentionRepository(one as unknown as PrismaService);
    const created = await sqlSession(one, (run) => retention.ensurePartitions(run, new Date(Date.now() + 400 * 86_400_000), 2));
    expect(created).toEqual(expect.arrayContaining([expect.stringMatching(/^message_p/), expect.stringMatching(/^verdict_p/)]));
    // The cached plans named the partitions of their time: PostgreSQL plans them again, under the same names.
    await messagePath();
    await sqlSession(one, async (run) => {
      for (const partition of created) {
        const table = partition.replace(/_p\d{8}$/, '');
        await run(Prisma.raw(`ALTER TABLE ${quoteIdentifier(table)} DETACH PARTITION ${quoteIdentifier(partition)} CONCURRENTLY`));
        await run(Prisma.raw(`DROP TABLE ${quoteIdentifier(partition)}`));
      }
    });
    await messagePath();
    expect((await connection()).names).toEqual(names);
  });

  it('should roll back a prepared statement that fails in a transaction and use the connection again', async () => {
    const { pid } = await connection();
    await expect(sqlTransaction(one, (run) => run(preparedSql(Prisma.sql`SELECT 1 / ${0}::int AS "v"`)))).rejects.toThrow(/division by zero/);
    // Its Parse inside a transaction already aborted fails too; node-postgres then forgets the name and parses it next time.
    await expect(
      sqlTransaction(one, async (run) => {
        await run(Prisma.sql`SELECT 1 / 0`).catch(() => undefined);
        return run(preparedSql(Prisma.sql`SELECT ${2}::int AS "v"`));
      }),
    ).rejects.toThrow(/current transaction is aborted/);
    expect(await sqlQuery(one, preparedSql(Prisma.sql`SELECT ${3}::int AS "v"`))).toEqual([{ v: 3 }]);
    await messagePath();
    expect((await connection()).names).toEqual(expect.arrayContaining([expect.stringMatching(/^mw_/)]));
    expect(pid).toBeGreaterThan(0);
  });

  it('should prepare the statements again on a connection that replaced a discarded one', async () => {
    const { pid } = await connection();
    // A session that fails is not handed back to the pool (sqlSession): its connection closes.
    await expect(sqlSession(one, () => Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    const fresh = await connection();
    expect(fresh.pid).not.toBe(pid);
    expect(fresh.names).toEqual([]);
    await messagePath();
    expect((await connection()).names).toHaveLength(3);
  });
});
