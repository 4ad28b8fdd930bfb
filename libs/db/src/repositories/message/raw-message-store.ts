import { createHash } from 'node:crypto';
import { Prisma, type PrismaClient } from '../../generated/prisma/client';
import { newMessageId, receivedAround } from './message-writes.sql';
import { sqlQuery } from '../../sql';
import type { RawInsert } from '../../types/message.types';

/** A transaction client or the client itself: stores can join the caller's transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Where the bytes of every message live. PostgreSQL for now (DESIGN.md §8); an S3-compatible store can
 * implement the same interface (upload first, then return a statement that yields the object keys as `id`).
 */
export interface RawMessageStore {
  /**
   * A statement storing `contents` (one row each), used as the first step of the writer's single SQL statement (a
   * data-modifying CTE), so the bytes commit with the message rows or not at all; and the `id` of each content, in
   * the order given (the writer names each message's bytes by it, and joins the statement's rows on it).
   */
  insertSql(contents: readonly Buffer[]): RawInsert;
  get(db: Db, ref: string): Promise<Buffer | null>;
}

export class PostgresRawMessageStore implements RawMessageStore {
  insertSql(contents: readonly Buffer[]): RawInsert {
    const ids = contents.map(() => newMessageId());
    const rows = contents.map((content, index) => Prisma.sql`(${ids[index]}::uuid, ${content}, ${content.byteLength}, ${createHash('sha256').update(content).digest('hex')})`);
    return { ids, sql: Prisma.sql`INSERT INTO "raw_message" ("id", "content", "size", "sha256") VALUES ${Prisma.join(rows)} RETURNING "id"` };
  }

  async get(db: Db, ref: string): Promise<Buffer | null> {
    const [row] = await sqlQuery<{ content: Uint8Array }>(db as PrismaClient, Prisma.sql`SELECT "content" FROM "raw_message" WHERE "id" = ${ref}::uuid${receivedAround(ref, Prisma.sql`"created_at"`)}`);
    return row ? Buffer.from(row.content) : null;
  }
}
