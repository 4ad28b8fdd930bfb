import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type Message } from '../../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../../db.constants';
import { PrismaService } from '../../prisma.service';
import type { RawMessageStore } from './raw-message-store';
import { sqlQuery } from '../../sql';
import type { IncomingMessage, VerdictInput } from '../../types/message.types';
import { dedupDigest, isUniqueViolation, MESSAGE_COLUMNS, messageInsertCtes, receivedAround, verdictInsertCtes } from './message-writes.sql';

/** The partition bounds of a message's own row (and of its raw bytes, stored in the same statement). */
const around = (id: string, alias = ''): Prisma.Sql => receivedAround(id, Prisma.raw(`${alias}"received_at"`));

@Injectable()
export class MessageRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
  ) {}

  /**
   * Stores the raw bytes and the message row in one statement (atomic). Resolves only after the commit, so a
   * caller may acknowledge the message (SMTP 250) once this returns. A message whose dedupKey was already stored
   * for the account is not stored again: the statement fails on the unique key of "message_dedup", nothing of it is kept, and the
   * existing row is returned with `duplicate`.
   */
  async storeIncoming(input: IncomingMessage): Promise<{ message: Pick<Message, 'id'>; duplicate: boolean }> {
    try {
      const [message] = await sqlQuery<Pick<Message, 'id'>>(
        this.prisma,
        Prisma.sql`WITH ${messageInsertCtes(this.rawStore.insertSql(input.raw), input, { scanStatus: 'PENDING', deliveryState: 'NOT_APPLICABLE' })} SELECT "id" FROM "msg"`,
      );
      return { message: message!, duplicate: false };
    } catch (error) {
      if (input.dedupKey && isUniqueViolation(error)) {
        const [existing] = await sqlQuery<Pick<Message, 'id'>>(
          this.prisma,
          Prisma.sql`SELECT "message_id" AS "id" FROM "message_dedup" WHERE "account_id" = ${input.accountId}::uuid AND "dedup_key" = ${dedupDigest(input.dedupKey)}`,
        );
        if (!existing) {
          throw error;
        }
        return { message: existing, duplicate: true };
      }
      throw error;
    }
  }

  /**
   * The message a processed mark names, with what proves an arriving copy is that message (libs/delivery
   * `processedOriginalOf`): its account, its Message-ID and its raw bytes. Read only for marked mail (rare), within
   * the partitions of the id's time. Null when unknown.
   */
  async findMarkedOriginal(id: string): Promise<{ id: string; accountId: string; messageIdHeader: string | null; raw: Buffer | null } | null> {
    const [row] = await sqlQuery<{ id: string; accountId: string; messageIdHeader: string | null; rawContent: Uint8Array | null }>(
      this.prisma,
      Prisma.sql`SELECT m."id", m."account_id" AS "accountId", m."message_id_header" AS "messageIdHeader", r."content" AS "rawContent"
        FROM "message" m LEFT JOIN "raw_message" r ON r."id" = m."raw_message_id"${receivedAround(id, Prisma.sql`r."created_at"`)}
        WHERE m."id" = ${id}::uuid${around(id, 'm.')}`,
    );
    if (!row) {
      return null;
    }
    const { rawContent, ...original } = row;
    return { ...original, raw: rawContent ? Buffer.from(rawContent) : null };
  }

  /**
   * A message and its raw bytes in one query (the scan worker's read; the account comes from a cache). Null when the
   * message does not exist; `raw` null when its bytes are missing.
   */
  async loadForScan(id: string): Promise<{ message: Message; raw: Buffer | null } | null> {
    const [row] = await sqlQuery<Message & { rawContent: Uint8Array | null }>(
      this.prisma,
      Prisma.sql`SELECT ${MESSAGE_COLUMNS}, r."content" AS "rawContent"
        FROM "message" m LEFT JOIN "raw_message" r ON r."id" = m."raw_message_id"${receivedAround(id, Prisma.sql`r."created_at"`)}
        WHERE m."id" = ${id}::uuid${around(id, 'm.')}`,
    );
    if (!row) {
      return null;
    }
    const { rawContent, ...message } = row;
    return { message, raw: rawContent ? Buffer.from(rawContent) : null };
  }

  readRaw(message: Pick<Message, 'rawMessageId'>): Promise<Buffer | null> {
    return this.rawStore.get(this.prisma, message.rawMessageId);
  }

  /** Messages stored before `olderThan` that still wait for a scan (the sweeper's outbox read). */
  findPendingScan(olderThan: Date, limit = 500): Promise<Array<Pick<Message, 'id' | 'accountId'>>> {
    return this.prisma.message.findMany({
      where: { scanStatus: 'PENDING', receivedAt: { lt: olderThan } },
      select: { id: true, accountId: true },
      orderBy: { receivedAt: 'asc' },
      take: limit,
    });
  }

  /**
   * Counts one more scan attempt of a PENDING message, before the scan runs (so a worker that dies during the scan
   * has counted it). Returns the attempts so far and the last recorded error; null when the message is no longer
   * PENDING.
   */
  async startScanAttempt(id: string): Promise<{ attempts: number; lastError: string | null } | null> {
    const [row] = await sqlQuery<{ attempts: number; lastError: string | null }>(
      this.prisma,
      Prisma.sql`UPDATE "message" SET "scan_attempts" = "scan_attempts" + 1 WHERE "id" = ${id}::uuid${around(id)} AND "scan_status" = 'PENDING'
        RETURNING "scan_attempts" AS "attempts", "scan_error" AS "lastError"`,
    );
    return row ?? null;
  }

  /** Keeps the error of a failed scan attempt (the message stays PENDING and is retried). */
  async recordScanError(id: string, error: string): Promise<void> {
    await sqlQuery(this.prisma, Prisma.sql`UPDATE "message" SET "scan_error" = ${error.slice(0, 1000)} WHERE "id" = ${id}::uuid${around(id)} AND "scan_status" = 'PENDING' RETURNING "id"`);
  }

  /** Ends the scans of a PENDING message: FAILED with the reason (shown in message history). False when it was not PENDING. */
  async markScanFailed(id: string, reason: string): Promise<boolean> {
    const rows = await sqlQuery(
      this.prisma,
      Prisma.sql`UPDATE "message" SET "scan_status" = 'FAILED', "scanned_at" = now(), "scan_error" = ${reason.slice(0, 1000)}
        WHERE "id" = ${id}::uuid${around(id)} AND "scan_status" = 'PENDING' RETURNING "id"`,
    );
    return rows.length > 0;
  }

  /**
   * Records the per-recipient verdicts and marks the message scanned, in one statement; a QUARANTINE decision
   * also lists the message in the quarantine (enforced=false: "would have been quarantined", nothing held).
   * Idempotent: only a PENDING message is claimed, so a redelivered scan job that finds it scanned writes nothing.
   */
  async saveVerdicts(
    message: Pick<Message, 'id' | 'accountId'>,
    verdicts: VerdictInput[],
    status: 'SCANNED' | 'SKIPPED' = 'SCANNED',
    options: { quarantineExpiresAt?: Date | null } = {},
  ): Promise<{ alreadyScanned: boolean }> {
    const [row] = await sqlQuery<{ claimed: number }>(this.prisma, Prisma.sql`
      WITH "claimed" AS (
        UPDATE "message" SET "scan_status" = ${status}::"ScanStatus", "scanned_at" = now()
        WHERE "id" = ${message.id}::uuid${around(message.id)} AND "scan_status" = 'PENDING'
        RETURNING "id", "direction", "envelope_from"),
      ${verdictInsertCtes('claimed', message.accountId, verdicts, options.quarantineExpiresAt ?? null)}
      SELECT count(*)::int AS "claimed" FROM "claimed"`);
    return { alreadyScanned: row!.claimed === 0 };
  }
}
