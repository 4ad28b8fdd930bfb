import { Registry } from 'prom-client';
import { createTestDatabase, type TestDatabase } from '@mailwarden/testing';
import { attachPgPool, createPgPool, PrismaClient, type PrismaReadService, type PrismaService, ReadReplicaRouter } from '@mailwarden/db';

/**
 * ReadReplicaRouter against the real PostgreSQL, without a standby (read-replica-lag.int-spec.ts in apps/admin-api
 * runs a real one): a read URL naming the primary itself (not in recovery) has no lag, a read database that does not
 * answer sends the reads to the primary, and without a read URL nothing is measured or exported.
 */
describe('ReadReplicaRouter', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Through Prisma once, so that its $disconnect (at drop) ends the pool the router's statements use.
    await db.prisma.account.count();
  });

  afterAll(async () => {
    await db?.drop();
  });

  const router = (readDatabaseUrl: string | undefined, registry: Registry) => {
    const options = { databaseUrl: db.url, readDatabaseUrl, readMaxLagSeconds: 5 };
    if (!readDatabaseUrl) {
      return { read: undefined, close: async () => undefined, router: new ReadReplicaRouter(db.prisma as unknown as PrismaService, options, db.prisma as unknown as PrismaReadService, registry) };
    }
    const { pool, adapter } = createPgPool({ databaseUrl: readDatabaseUrl, poolSize: 1 });
    pool.on('error', () => undefined);
    const read = new PrismaClient({ adapter });
    attachPgPool(read, pool);
    // The pool is ended here, whether Prisma ever used it or not (the database is dropped after the suite).
    const close = () => pool.end().catch(() => undefined);
    return { read, close, router: new ReadReplicaRouter(db.prisma as unknown as PrismaService, options, read as unknown as PrismaReadService, registry) };
  };
  const gauge = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

  it('should read a second URL of the primary with no lag, and export the gauges', async () => {
    const registry = new Registry();
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'mailwarden-read');
    const { read, close, router: reads } = router(url.toString(), registry);
    try {
      expect(await reads.measure()).toEqual({ seconds: 0, bytes: 0, useReplica: true, error: null });
      expect(await reads.reader()).toBe(read);
      expect(await gauge(registry, 'mailwarden_db_replica_lag_seconds')).toBe(0);
      expect(await gauge(registry, 'mailwarden_db_replica_fallback')).toBe(0);
    } finally {
      await close();
    }
  });

  it('should send the reads to the primary while the read database does not answer', async () => {
    const registry = new Registry();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const { close, router: reads } = router('postgresql://postgres@127.0.0.1:1/mailwarden', registry);
    try {
      const lag = await reads.measure();
      expect(lag).toMatchObject({ useReplica: false, error: expect.stringMatching(/ECONNREFUSED|connect/) });
      expect(await reads.reader()).toBe(db.prisma);
      expect(await gauge(registry, 'mailwarden_db_replica_fallback')).toBe(1);
    } finally {
      await close();
    }
  });

  it('should read the primary and measure nothing without a read URL', async () => {
    const registry = new Registry();
    const { router: reads } = router(undefined, registry);
    expect(await reads.reader()).toBe(db.prisma);
    expect(registry.getSingleMetric('mailwarden_db_replica_lag_seconds')).toBeUndefined();
  });
});
