import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from './generated/prisma/client';

/** A transaction client or the client itself: stores can join the caller's transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Where the bytes of every message live. PostgreSQL for now (DESIGN.md §8); an S3-compatible store can
 * implement the same interface. `put` takes the caller's transaction so the bytes commit with the message row.
 */
export interface RawMessageStore {
  put(db: Db, content: Buffer): Promise<string>;
  get(db: Db, ref: string): Promise<Buffer | null>;
}

export class PostgresRawMessageStore implements RawMessageStore {
  async put(db: Db, content: Buffer): Promise<string> {
    const row = await db.rawMessage.create({
      data: {
        content: new Uint8Array(content.buffer as ArrayBuffer, content.byteOffset, content.byteLength),
        size: content.byteLength,
        sha256: createHash('sha256').update(content).digest('hex'),
      },
      select: { id: true },
    });
    return row.id;
  }

  async get(db: Db, ref: string): Promise<Buffer | null> {
    const row = await db.rawMessage.findUnique({ where: { id: ref }, select: { content: true } });
    return row ? Buffer.from(row.content) : null;
  }
}
