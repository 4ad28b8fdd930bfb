import { createHash } from 'node:crypto';
import { Prisma, type PrismaClient } from '../../generated/prisma/client';
import { newMessageId, receivedAround } from './message-writes.sql';
import { sqlQuery } from '../../sql';

/** A transaction client or the client itself: stores can join the caller's transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Where the bytes of every message live. PostgreSQL for now (DESIGN.md §8); an S3-compatible store can
 * implement the same interface (upload first, then return a statement that yields the object key as `id`).
 */
export interface RawMessageStore {
  /**
   * A statement yielding one row with the stored content's `id`, used as the first step of the writer's single
   * SQL statement (a data-modifying CTE), so the bytes commit with the message row or not at all.
   */
  insertSql(content: Buffer): Prisma.Sql;
  get(db: Db, ref: string): Promise<Buffer | null>;
}

export class PostgresRawMessageStore implements RawMessageStore {
  insertSql(content: Buffer): Prisma.Sql {
    const sha256 = createHash('sha256').update(content).digest('hex');
    return Prisma.sql`INSERT INTO "raw_message" ("id", "content", "size", "sha256") VALUES (${newMessageId()}::uuid, ${content}, ${content.byteLength}, ${sha256}) RETURNING "id"`;
  }

  async get(db: Db, ref: string): Promise<Buffer | null> {
    const [row] = await sqlQuery<{ content: Uint8Array }>(db as PrismaClient, Prisma.sql`SELECT "content" FROM "raw_message" WHERE "id" = ${ref}::uuid${receivedAround(ref, Prisma.sql`"created_at"`)}`);
    return row ? Buffer.from(row.content) : null;
  }
}
