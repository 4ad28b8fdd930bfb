// The database of a micro-benchmark (prepared-hot-statements.mjs, update-deliveries-plan.mjs): its own, on
// DATABASE_URL's server (default 127.0.0.1), migrated with the repo's migrator, with day partitions made `aheadDays`
// ahead of today and a Prisma client on ONE connection (so that one backend's CPU is the statements'). `drop()`
// disconnects and drops it; call it in a `finally`.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const pg = require('pg');
const db = require('@mailwarden/db');
const { Prisma } = db;

export async function microDatabase(prefix, { aheadDays = 0 } = {}) {
  const server = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL) : new URL('postgresql://postgres@127.0.0.1:5432/postgres');
  const name = `mw_micro_${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db.quoteIdentifier(name)}`);
  let prisma;
  const drop = async () => {
    await prisma?.$disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${db.quoteIdentifier(name)} WITH (FORCE)`);
    await admin.end();
  };
  try {
    await db.migrate({ databaseUrl: url.toString() });
    prisma = db.createPrismaClient({ databaseUrl: url.toString(), poolSize: 1 });
    if (aheadDays > 0) await db.sqlSession(prisma, (run) => new db.RetentionRepository(prisma).ensurePartitions(run, new Date(), aheadDays));
    const [{ partitions }] = await db.sqlQuery(prisma, Prisma.sql`SELECT count(*)::int AS "partitions" FROM pg_inherits WHERE inhparent = '"message"'::regclass`);
    const [{ pid }] = await db.sqlQuery(prisma, Prisma.sql`SELECT pg_backend_pid() AS "pid"`);
    return { name, url, prisma, partitions, backendPid: pid, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}
