import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type Message } from '../../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../../db.constants';
import { PrismaService } from '../../prisma.service';
import type { RawMessageStore } from './raw-message-store';
import { preparedSql, sqlQuery } from '../../sql';
import { settle } from '../../group-commit';
import type { IncomingMessage, StoredIncoming, VerdictInput, VerdictWrite } from '../../types/message.types';
import { dedupDigest, endScanCte, isUniqueViolation, MESSAGE_COLUMNS, messageInsertCtes, preparedStore, receivedAround, receivedAroundAll, verdictInsertCtes } from './message-writes.sql';

/** The partition bounds of a message's own row (and of its raw bytes, stored in the same statement). */
const around = (id: string, alias = ''): Prisma.Sql => receivedAround(id, Prisma.raw(`${alias}"received_at"`));

@Injectable()
export class MessageRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
  ) {}

  /**
   * Stores the raw bytes and the message row in one statement (atomic): a group commit of one
   * ({@link storeIncomingMany}). Resolves only after the commit, so a caller may acknowledge the message (SMTP 250)
   * once this returns. A message whose dedupKey was already stored for the account is not stored again: the
   * statement fails on the unique key of "message_dedup", nothing of it is kept, and the existing row is returned with
   * `duplicate`.
   */
  async storeIncoming(input: IncomingMessage): Promise<StoredIncoming> {
    const [outcome] = await this.storeIncomingMany([input]);
    if (outcome!.status === 'rejected') {
      throw outcome!.reason;
    }
    return outcome!.value;
  }

  /**
   * Stores several received copies (the journal ingest's concurrent sessions, gathered by {@link IncomingCommitter})
   * in ONE statement, so one transaction and one commit for all: the bytes and rows of every copy, or of none.
   * Resolves after the commit with each input's outcome, in the order given, as {@link storeIncoming} would give it:
   * - copies with the same account and dedup key in one call: the first is stored, the others are its duplicates
   *   (same message id), as if they had come one after the other;
   * - when the statement fails (a copy stored earlier under its dedup key, a constraint, a lost connection), nothing
   *   of it is kept and each copy is stored again on its own, so one bad copy fails only itself, and a duplicate is
   *   reported as such. Never rejects: a copy that cannot be stored has its error as a rejected outcome.
   */
  async storeIncomingMany(inputs: readonly IncomingMessage[]): Promise<Array<PromiseSettledResult<StoredIncoming>>> {
    if (inputs.length === 0) {
      return [];
    }
    const firstOfKey = new Map<string, number>();
    const leaderOf = inputs.map((input, index) => {
      if (!input.dedupKey) {
        return index;
      }
      const key = `${input.accountId}\n${input.dedupKey}`;
      const first = firstOfKey.get(key) ?? index;
      firstOfKey.set(key, first);
      return first;
    });
    // In (account, dedup key) order: two processes committing overlapping keys wait on each other in one order only.
    const leaders = inputs
      .flatMap((input, index) => (leaderOf[index] === index ? [{ index, key: `${input.accountId}\n${input.dedupKey ?? ''}` }] : []))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
      .map(({ index }) => index);
    const outcomes = new Map<number, PromiseSettledResult<StoredIncoming>>();
    try {
      const ids = await this.insertIncoming(leaders.map((index) => inputs[index]!));
      leaders.forEach((index, position) => outcomes.set(index, { status: 'fulfilled', value: { message: { id: ids[position]! }, duplicate: false } }));
    } catch (error) {
      const alone =
        leaders.length === 1
          ? [await settle(this.existingCopy(inputs[leaders[0]!]!, error))]
          : await Promise.all(leaders.map((index) => settle(this.insertIncoming([inputs[index]!]).then(([id]) => ({ message: { id: id! }, duplicate: false }), (failure: unknown) => this.existingCopy(inputs[index]!, failure)))));
      leaders.forEach((index, position) => outcomes.set(index, alone[position]!));
    }
    return inputs.map((_, index) => {
      const outcome = outcomes.get(leaderOf[index]!)!;
      return leaderOf[index] === index || outcome.status === 'rejected' ? outcome : { status: 'fulfilled', value: { message: outcome.value.message, duplicate: true } };
    });
  }

  /** One statement storing every input's bytes and message row (a PENDING scan state each, by trigger); their ids. */
  private async insertIncoming(inputs: readonly IncomingMessage[]): Promise<string[]> {
    const { ctes, ids } = messageInsertCtes(this.rawStore.insertSql(inputs.map((input) => input.raw)), inputs, { scanStatus: 'PENDING', deliveryState: 'NOT_APPLICABLE' });
    await sqlQuery<Pick<Message, 'id'>>(this.prisma, preparedStore(Prisma.sql`WITH ${ctes} SELECT "id" FROM "msg"`, inputs.length));
    return ids;
  }

  /** After a failed store of `input` alone: the message stored earlier under its dedup key (a duplicate), else the error. */
  private async existingCopy(input: IncomingMessage, error: unknown): Promise<StoredIncoming> {
    if (input.dedupKey && isUniqueViolation(error)) {
      const [existing] = await sqlQuery<Pick<Message, 'id'>>(
        this.prisma,
        Prisma.sql`SELECT "message_id" AS "id" FROM "message_dedup" WHERE "account_id" = ${input.accountId}::uuid AND "dedup_key" = ${dedupDigest(input.dedupKey)}`,
      );
      if (existing) {
        return { message: existing, duplicate: true };
      }
    }
    throw error;
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
   * A message and its raw bytes in one query (the account comes from a cache). Null when the message does not
   * exist; `raw` null when its bytes are missing.
   */
  async loadForScan(id: string): Promise<{ message: Message; raw: Buffer | null } | null> {
    const loaded = await this.loadWith(id, Prisma.empty, Prisma.empty);
    return loaded && { message: loaded.message, raw: loaded.raw };
  }

  /**
   * The scan worker's read: the message, its raw bytes, and one more scan attempt counted in "message_scan" (before
   * the scan runs, so a worker that dies during the scan has counted it), in one statement. `attempt` is the
   * attempts so far and the last recorded error; null when the message is no longer PENDING (its "message_scan" row
   * is gone: a verdict or a FAILED mark ended it). Null when the message does not exist.
   */
  async startScan(id: string): Promise<{ message: Message; raw: Buffer | null; attempt: { attempts: number; lastError: string | null } | null } | null> {
    return this.loadWith(
      id,
      Prisma.sql`WITH "attempt" AS (UPDATE "message_scan" SET "attempts" = "attempts" + 1 WHERE "message_id" = ${id}::uuid RETURNING "attempts", "last_error") `,
      Prisma.sql`, EXISTS (SELECT 1 FROM "attempt") AS "counted", (SELECT "attempts" FROM "attempt") AS "attempts", (SELECT "last_error" FROM "attempt") AS "lastError"`,
    );
  }

  /**
   * {@link startScan} without the read, for a scan that already holds the message (the journal ingest scans the copy
   * it has just stored, libs/scanning `ScanMessageService.scanStored`): one more attempt counted in "message_scan",
   * one short statement on its narrow row. Null when the message is no longer PENDING (or does not exist).
   */
  async countScanAttempt(id: string): Promise<{ attempts: number; lastError: string | null } | null> {
    const [outcome] = await this.countScanAttemptMany([{ id }]);
    if (outcome!.status === 'rejected') {
      throw outcome!.reason;
    }
    return outcome!.value;
  }

  /**
   * {@link countScanAttempt} of several messages in one statement (the scans that `VerdictCommitter` gathers): each
   * input's outcome in the order given. `delta` -1 releases an attempt counted in advance that no scan used (a copy
   * stored with `scanAttemptCounted`, then handed to the scan queue unscanned); never below 0. An id given twice is
   * counted twice, each input seeing the count after its own change, as calls one after the other would. Never
   * rejects; a failed statement rejects every input's outcome (there is nothing one id could break alone).
   */
  async countScanAttemptMany(counts: ReadonlyArray<{ id: string; delta?: 1 | -1 }>): Promise<Array<PromiseSettledResult<{ attempts: number; lastError: string | null } | null>>> {
    if (counts.length === 0) {
      return [];
    }
    const keys = counts.map((count) => count.id.toLowerCase());
    const deltas = counts.map((count) => count.delta ?? 1);
    const total = new Map<string, number>();
    keys.forEach((id, index) => total.set(id, (total.get(id) ?? 0) + deltas[index]!));
    const distinct = [...total.keys()].sort();
    try {
      const rows = await sqlQuery<{ id: string; attempts: number; lastError: string | null }>(
        this.prisma,
        Prisma.sql`UPDATE "message_scan" s SET "attempts" = GREATEST(s."attempts" + c."delta", 0)
          FROM unnest(${distinct}::uuid[], ${distinct.map((id) => total.get(id)!)}::int[]) AS c("id", "delta")
          WHERE s."message_id" = c."id" RETURNING s."message_id"::text AS "id", s."attempts", s."last_error" AS "lastError"`,
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      // What the inputs of an id after this one add: the count this input saw is the final one without them.
      const later = new Map<string, number>(total);
      return keys.map((id, index) => {
        const row = byId.get(id);
        later.set(id, later.get(id)! - deltas[index]!);
        return { status: 'fulfilled', value: row ? { attempts: Math.max(0, row.attempts - later.get(id)!), lastError: row.lastError ?? null } : null };
      });
    } catch (error) {
      return counts.map(() => ({ status: 'rejected', reason: error }));
    }
  }

  private async loadWith(id: string, prefix: Prisma.Sql, extra: Prisma.Sql) {
    const [row] = await sqlQuery<Message & { rawContent: Uint8Array | null; counted?: boolean; attempts?: number; lastError?: string | null }>(
      this.prisma,
      Prisma.sql`${prefix}SELECT ${MESSAGE_COLUMNS}, r."content" AS "rawContent"${extra}
        FROM "message" m LEFT JOIN "raw_message" r ON r."id" = m."raw_message_id"${receivedAround(id, Prisma.sql`r."created_at"`)}
        WHERE m."id" = ${id}::uuid${around(id, 'm.')}`,
    );
    if (!row) {
      return null;
    }
    const { rawContent, counted, attempts, lastError, ...message } = row;
    return { message, raw: rawContent ? Buffer.from(rawContent) : null, attempt: counted ? { attempts: attempts!, lastError: lastError ?? null } : null };
  }

  readRaw(message: Pick<Message, 'rawMessageId'>): Promise<Buffer | null> {
    return this.rawStore.get(this.prisma, message.rawMessageId);
  }

  /** Messages stored before `olderThan` that still wait for a scan (the sweeper's outbox read): "message_scan" holds exactly those. */
  findPendingScan(olderThan: Date, limit = 500): Promise<Array<Pick<Message, 'id' | 'accountId'>>> {
    return sqlQuery<Pick<Message, 'id' | 'accountId'>>(
      this.prisma,
      Prisma.sql`SELECT "message_id" AS "id", "account_id" AS "accountId" FROM "message_scan" WHERE "received_at" < ${olderThan}::timestamptz ORDER BY "received_at" LIMIT ${limit}::int`,
    );
  }

  /** Keeps the error of a failed scan attempt (the message stays PENDING and is retried). */
  async recordScanError(id: string, error: string): Promise<void> {
    await sqlQuery(this.prisma, Prisma.sql`UPDATE "message_scan" SET "last_error" = ${error.slice(0, 1000)} WHERE "message_id" = ${id}::uuid RETURNING "message_id"`);
  }

  /**
   * Forgets the scan state of a message that is no longer PENDING (a "message_scan" row left by a writer that
   * changed the status itself, e.g. through Prisma), so the sweeper does not queue it again.
   */
  async forgetScanState(id: string): Promise<void> {
    await sqlQuery(
      this.prisma,
      Prisma.sql`DELETE FROM "message_scan" s WHERE s."message_id" = ${id}::uuid
        AND NOT EXISTS (SELECT 1 FROM "message" m WHERE m."id" = ${id}::uuid${around(id, 'm.')} AND m."scan_status" = 'PENDING') RETURNING s."message_id"`,
    );
  }

  /**
   * Ends the scans of a PENDING message: FAILED with the reason and the attempts counted (shown in message history).
   * False when it was not PENDING.
   */
  async markScanFailed(id: string, reason: string): Promise<boolean> {
    const rows = await sqlQuery(
      this.prisma,
      Prisma.sql`WITH ${endScanCte([id])}
        UPDATE "message" SET "scan_status" = 'FAILED', "scanned_at" = now(), "scan_error" = ${reason.slice(0, 1000)},
          "scan_attempts" = COALESCE((SELECT "attempts" FROM "scan_ended"), "scan_attempts")
        WHERE "id" = ${id}::uuid${around(id)} AND "scan_status" = 'PENDING' RETURNING "id"`,
    );
    return rows.length > 0;
  }

  /**
   * Records the per-recipient verdicts and marks the message scanned, in one statement (an update of columns no
   * index names: HOT, no index entry written; and the message's "message_scan" row deleted); a QUARANTINE decision
   * also lists the message in the quarantine (enforced=false: "would have been quarantined", nothing held).
   * Idempotent: only a PENDING message is claimed, so a redelivered scan job that finds it scanned writes nothing.
   * A group commit of one ({@link saveVerdictsMany}).
   */
  async saveVerdicts(
    message: Pick<Message, 'id' | 'accountId'>,
    verdicts: VerdictInput[],
    status: 'SCANNED' | 'SKIPPED' = 'SCANNED',
    options: { quarantineExpiresAt?: Date | null } = {},
  ): Promise<{ alreadyScanned: boolean }> {
    const [outcome] = await this.saveVerdictsMany([{ message, verdicts, status, quarantineExpiresAt: options.quarantineExpiresAt ?? null }]);
    if (outcome!.status === 'rejected') {
      throw outcome!.reason;
    }
    return outcome!.value;
  }

  /**
   * The verdicts of several scanned messages (the concurrent scans of one process, gathered by `VerdictCommitter`) in
   * ONE statement, so one transaction and one commit for all: per message what {@link saveVerdicts} writes, the
   * hourly statistics as one upsert per key for the whole batch. Resolves after the commit with each write's outcome,
   * in the order given:
   * - exactly one verdict write per message: only a PENDING message is claimed; a message given twice is written
   *   once (the first write; the other is `alreadyScanned`, as if it had come after);
   * - when the statement fails (a constraint, a deadlock with another process's batch, a lost connection), nothing of
   *   it is kept and each message is written again on its own, so one bad write fails only itself. Never rejects.
   */
  async saveVerdictsMany(writes: readonly VerdictWrite[]): Promise<Array<PromiseSettledResult<{ alreadyScanned: boolean }>>> {
    if (writes.length === 0) {
      return [];
    }
    const idOf = (index: number) => writes[index]!.message.id.toLowerCase();
    const firstOf = new Map<string, number>();
    const leaderOf = writes.map((_, index) => {
      const first = firstOf.get(idOf(index)) ?? index;
      firstOf.set(idOf(index), first);
      return first;
    });
    // In id order, so two processes' batches of overlapping messages tend to lock rows in one order; a deadlock that
    // still happens fails the batch, which is then written message by message (below).
    const leaders = [...firstOf.values()].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
    const outcomes = new Map<number, PromiseSettledResult<{ alreadyScanned: boolean }>>();
    try {
      const claimed = await this.claimAndWrite(leaders.map((index) => writes[index]!));
      leaders.forEach((index) => outcomes.set(index, { status: 'fulfilled', value: { alreadyScanned: !claimed.has(idOf(index)) } }));
    } catch (error) {
      const alone =
        leaders.length === 1
          ? [{ status: 'rejected', reason: error } as const]
          : await Promise.all(leaders.map((index) => settle(this.claimAndWrite([writes[index]!]).then((claimed) => ({ alreadyScanned: !claimed.has(idOf(index)) })))));
      leaders.forEach((index, position) => outcomes.set(index, alone[position]!));
    }
    return writes.map((_, index) => {
      const outcome = outcomes.get(leaderOf[index]!)!;
      // A second write of a message: the first one claimed it or found it no longer PENDING; either way not this one.
      return leaderOf[index] === index || outcome.status === 'rejected' ? outcome : { status: 'fulfilled', value: { alreadyScanned: true } };
    });
  }

  /** One statement ending the scans of `writes` (distinct messages) that are still PENDING, with their verdicts; the ids it claimed. */
  private async claimAndWrite(writes: readonly VerdictWrite[]): Promise<Set<string>> {
    const ids = writes.map((write) => write.message.id);
    // unnest of arrays, not JSON: PostgreSQL then knows how many rows it joins (a JSON function counts as 100), so it
    // looks each message up by its key instead of reading the whole day's partition (seen in the bench: 3-10 x the blocks).
    // Prepared (named): two texts (with or without the ids' time bounds), whatever the number of messages.
    const rows = await sqlQuery<{ id: string }>(this.prisma, preparedSql(Prisma.sql`
      WITH ${endScanCte(ids)},
      "claimed" AS (
        UPDATE "message" m SET "scan_status" = c."status", "scanned_at" = now(),
          "scan_attempts" = COALESCE(se."attempts", m."scan_attempts")
        FROM unnest(${ids}::uuid[], ${writes.map((write) => write.status ?? 'SCANNED')}::"ScanStatus"[]) AS c("id", "status")
          LEFT JOIN "scan_ended" se ON se."message_id" = c."id"
        WHERE m."id" = c."id" AND m."id" = ANY(${ids}::uuid[])${receivedAroundAll(ids, Prisma.sql`m."received_at"`)} AND m."scan_status" = 'PENDING'
        RETURNING m."id", m."account_id", m."direction", m."envelope_from"),
      ${verdictInsertCtes('claimed', writes)}
      SELECT "id"::text AS "id" FROM "claimed"`));
    return new Set(rows.map((row) => row.id));
  }
}
