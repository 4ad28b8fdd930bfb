import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import { PrismaClient, type Prisma } from './generated/prisma/client';

export interface DbOptions {
  databaseUrl: string;
  poolSize?: number;
  /**
   * A replica (or any read-only copy) for reads that may lag behind the primary: history search and statistics
   * (`PrismaReadService`). Unset or equal to `databaseUrl`: those reads go to the primary too.
   */
  readDatabaseUrl?: string;
  /**
   * A read replica further behind than this (seconds) is not read: those reads go to the primary until it catches up
   * (`ReadReplicaRouter`; DATABASE_READ_MAX_LAG_SECONDS, default 30).
   */
  readMaxLagSeconds?: number;
  /** Received copies per transaction at most in the group commit (`IncomingCommitter`; the journal ingest's INGEST_COMMIT_MAX_BATCH). */
  commitMaxBatch?: number;
  /** Raw bytes per transaction at most in the group commit (default 16 MiB; a larger copy is committed alone). */
  commitMaxBatchBytes?: number;
}

const PG_POOL = Symbol('mailwarden.pgPool');

/** A runner of statements built with `Prisma.sql`, inside or outside a transaction. */
export type SqlRunner = <T>(query: Prisma.Sql) => Promise<T[]>;

/**
 * The Prisma client of every app and tool, and the node-postgres pool under it, which {@link sqlQuery} uses for the
 * hot-path statements. Prisma disconnects the pool with the client.
 */
export function createPgPool(options: DbOptions): { pool: Pool; adapter: PrismaPg } {
  const pool = new Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  return { pool, adapter: new PrismaPg(pool, { disposeExternalPool: true }) };
}

/** Lets {@link sqlQuery} find the pool of a client built on {@link createPgPool}. */
export function attachPgPool(client: PrismaClient, pool: Pool): void {
  Object.defineProperty(client, PG_POOL, { value: pool });
}

export function createPrismaClient(options: DbOptions): PrismaClient {
  const { pool, adapter } = createPgPool(options);
  const client = new PrismaClient({ adapter });
  attachPgPool(client, pool);
  return client;
}

const poolOf = (db: PrismaClient): Pool | undefined => (db as unknown as { [PG_POOL]?: Pool })[PG_POOL];
let statementObserver: ((text: string) => void) | null = null;

/**
 * Hands the text (placeholders, never values) of every statement run through {@link sqlQuery}, {@link sqlTransaction}
 * and {@link sqlSession} to `observer`, or stops with `null`. The record of the hot path's SQL
 * (repositories/message/hot-path.queries.sql) is made with it.
 */
export function observeStatements(observer: ((text: string) => void) | null): void {
  statementObserver = observer;
}

const PREPARED = Symbol('mailwarden.prepared');

/**
 * Marks `query` to run as a NAMED prepared statement: node-postgres sends its text (Parse) once per pool connection,
 * then only Bind / Execute, and PostgreSQL keeps it parsed and analysed, and after five executions may keep its plan
 * (plan_cache_mode auto: a generic plan when it is not costlier than the custom ones). For the big fixed-text
 * statements of the message path only (journal store, verdict write, gateway store): planning and analysing them cost
 * PostgreSQL more than running them (tools/bench/README.md, "Named prepared statements on the hot path"). The name is
 * a digest of the text, so a statement whose text varies with its input gets one name per text, and each name stays
 * on every connection until it closes: mark only statements drawn from a small, bounded set of texts (a group commit
 * of 1 to `commitMaxBatch` rows), never one carrying an IN list or text built from values.
 */
export function preparedSql(query: Prisma.Sql): Prisma.Sql {
  Object.defineProperty(query, PREPARED, { value: true });
  return query;
}

/** A prepared statement's name: 'mw_' and 120 bits of the text's SHA-1 (node-postgres refuses one name for two texts). */
const statementName = (text: string): string => `mw_${createHash('sha1').update(text).digest('hex').slice(0, 30)}`;

const runOn =
  (client: Pool | PoolClient): SqlRunner =>
  async <T>(query: Prisma.Sql) => {
    const text = query.text;
    statementObserver?.(text);
    const prepared = (query as { [PREPARED]?: boolean })[PREPARED] === true;
    return (await client.query(prepared ? { name: statementName(text), text, values: query.values } : { text, values: query.values })).rows as T[];
  };

/**
 * Runs a statement straight on node-postgres: a Buffer goes to bytea as it is and rows come back as pg gives them,
 * where `$queryRaw` would carry every parameter through Prisma's JSON protocol (a 20 KB message as a base64
 * string, encoded and decoded again). The SQL must name its casts and columns itself. A client without a pool
 * (built elsewhere) falls back to `$queryRaw`.
 */
export function sqlQuery<T>(db: PrismaClient, query: Prisma.Sql): Promise<T[]> {
  const pool = poolOf(db);
  return pool ? runOn(pool)<T>(query) : db.$queryRaw<T[]>(query);
}

/** Runs `work` in one transaction on one connection of the pool (BEGIN … COMMIT, ROLLBACK on any error). */
export async function sqlTransaction<T>(db: PrismaClient, work: (run: SqlRunner) => Promise<T>): Promise<T> {
  const pool = poolOf(db);
  if (!pool) {
    return db.$transaction((tx) => work(<R>(query: Prisma.Sql) => tx.$queryRaw<R[]>(query)));
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(runOn(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Runs `work` on one connection of the pool without a transaction around it (a session: advisory locks, statements
 * that refuse a transaction block such as DETACH PARTITION … CONCURRENTLY, and transactions the work opens itself).
 */
export async function sqlSession<T>(db: PrismaClient, work: (run: SqlRunner) => Promise<T>): Promise<T> {
  const pool = poolOf(db);
  if (!pool) {
    throw new Error('sqlSession needs a client built on createPgPool');
  }
  const client = await pool.connect();
  let broken = false;
  // A connection lost during the work (server restart, terminated backend) is reported here, not as an unhandled
  // 'error' event that would end the process; the statement in flight fails on its own.
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  try {
    return await work(runOn(client));
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.off('error', onError);
    // A session that failed may hold session state (a lock, an open transaction): never hand it to another caller.
    client.release(broken);
  }
}

/**
 * `text` as a literal inside a LIKE / ILIKE pattern (Prisma's `contains` passes its value through unescaped, so
 * `%` and `_` would match anything): backslash, PostgreSQL's default LIKE escape, goes before `\\`, `%` and `_`.
 */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
