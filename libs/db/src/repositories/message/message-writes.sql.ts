import { createHash, randomBytes } from 'node:crypto';
import { Prisma, type DeliveryState, type ScanStatus } from '../../generated/prisma/client';
import { preparedSql } from '../../sql';
import type { IncomingMessage, RawInsert, RecipientDeliveryInput, VerdictWrite } from '../../types/message.types';

/**
 * The hot-path writes (a received message, its verdicts, its copies) as single SQL statements built from
 * data-modifying CTEs: one round trip, atomic like a transaction, and without the ORM's per-query cost, which was
 * most of the CPU a message took (tools/bench/README.md). Each builder returns CTEs for `WITH … SELECT`.
 */

/** A JSON array expanded to rows inside the statement: one parameter whatever the number of recipients. */
function jsonRows(rows: readonly object[]): Prisma.Sql {
  return Prisma.sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)`;
}

/**
 * What the unique (account, dedup key) index holds for a dedup key: its SHA-256 in hex. A key joins a Message-ID and
 * recipients of any length; a btree entry may not exceed ~2.7 KB, the digest always fits.
 */
export function dedupDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * A message id that carries the time it was made (UUID version 7, RFC 9562 §5.7: 48 bits of Unix milliseconds, then
 * random bits). "message" and "raw_message" are partitioned by day (migration 20261206160000): a lookup by id alone
 * probes, and plans, every partition, while {@link receivedAround} turns the id's time into bounds that let
 * PostgreSQL prune to the one or two days it can be in. Eight lines, so no dependency for it.
 */
export function newMessageId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** How far a message's stored time may be from its id's time (clock difference between the app and PostgreSQL). */
const ID_TIME_SLACK_MS = 86_400_000;

/**
 * `AND <column> >= … AND <column> < …` around the time in a version-7 message id (its day, give or take the slack),
 * so the statement touches the partitions of that time only; nothing for any other id (rows stored before the
 * migration, or written by Prisma with a random id): every partition is searched, as before.
 */
export function receivedAround(id: string, column: Prisma.Sql): Prisma.Sql {
  const range = receivedRange(id);
  return range ? Prisma.sql` AND ${column} >= ${range.gte}::timestamptz AND ${column} < ${range.lt}::timestamptz` : Prisma.empty;
}

/** The same bounds as {@link receivedAround} for a Prisma filter (`receivedAt: receivedRange(id)`); undefined for any other id. */
export function receivedRange(id: string): { gte: Date; lt: Date } | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) {
    return undefined;
  }
  const at = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return { gte: new Date(at - ID_TIME_SLACK_MS), lt: new Date(at + ID_TIME_SLACK_MS) };
}

/** The state a message row is written with besides what was received (the gateway writes it already scanned). */
export interface MessageRowState {
  scanStatus: ScanStatus;
  deliveryState: DeliveryState;
}

/**
 * CTEs `raw` (the bytes, from the raw store), `msg` (one Message row per input, in one multi-row INSERT; a PENDING
 * one gets its "message_scan" row from the table's trigger, its attempts starting at 1 when `scanAttemptCounted`,
 * addresses lower-cased, RETURNING "id") and `msg_dedup`:
 * each dedup key's row in "message_dedup", whose primary key (account, key) makes a second copy fail the whole
 * statement. "message" is partitioned by day (migration 20261206160000), so a unique index there could only hold per
 * day: the key lives in a plain table instead, kept as long as the message (RetentionRepository). `ids`: the id of
 * each input's message, in order (made here, version 7: {@link newMessageId}). One builder for a single message (the
 * gateway, `storeIncoming`) and a group commit of many (`storeIncomingMany`, the gateway's `storeProcessedMany`: `state`
 * then one per input).
 * Mirrors the columns of the Message model in schema.prisma; libs/db-int/src/schema.int-spec.ts reads rows written here.
 */
export function messageInsertCtes(raw: RawInsert, inputs: readonly IncomingMessage[], state: MessageRowState | readonly MessageRowState[]): { ctes: Prisma.Sql; ids: string[] } {
  const stateOf = (index: number): MessageRowState => ('scanStatus' in state ? state : state[index]!);
  const now = new Date();
  const ids = inputs.map(() => newMessageId());
  const rows = inputs.map(
    (input, index) => Prisma.sql`(${ids[index]}::uuid, ${raw.ids[index]}::uuid, ${input.accountId}::uuid, ${input.source}::"MessageSource", ${input.direction}::"MessageDirection",
      ${input.envelopeFrom.toLowerCase()}::text, ${input.envelopeTo.map((address) => address.toLowerCase())}::text[],
      ${input.headerFrom?.toLowerCase() ?? null}::text, ${input.subject ?? null}::text, ${input.messageIdHeader ?? null}::text, ${input.raw.byteLength}::int,
      ${input.clientIp ?? null}::text, ${input.helo ?? null}::text, ${input.dedupKey ? dedupDigest(input.dedupKey) : null}::text, ${JSON.stringify(input.metadata ?? {})}::jsonb,
      ${stateOf(index).scanStatus === 'PENDING' && input.scanAttemptCounted ? 1 : 0}::int,
      ${stateOf(index).scanStatus}::"ScanStatus", ${stateOf(index).scanStatus === 'PENDING' ? null : now}::timestamptz, ${stateOf(index).deliveryState}::"DeliveryState")`,
  );
  const ctes = Prisma.sql`"raw" AS (${raw.sql}),
  "msg" AS (
    INSERT INTO "message" ("id", "account_id", "source", "direction", "envelope_from", "envelope_to", "header_from", "subject",
      "message_id_header", "size", "client_ip", "helo", "dedup_key", "metadata", "raw_message_id", "scan_status", "scanned_at", "delivery_state", "scan_attempts")
    SELECT i."id", i."account_id", i."source", i."direction", i."envelope_from", i."envelope_to", i."header_from", i."subject",
      i."message_id_header", i."size", i."client_ip", i."helo", i."dedup_key", i."metadata", "raw"."id",
      i."scan_status", i."scanned_at", i."delivery_state", i."scan_attempts"
    FROM (VALUES ${Prisma.join(rows)}) AS i("id", "raw_message_id", "account_id", "source", "direction", "envelope_from", "envelope_to", "header_from",
      "subject", "message_id_header", "size", "client_ip", "helo", "dedup_key", "metadata", "scan_attempts", "scan_status", "scanned_at", "delivery_state")
    JOIN "raw" ON "raw"."id" = i."raw_message_id"
    RETURNING "id", "direction", "envelope_from", "account_id", "dedup_key", "received_at"),
  "msg_dedup" AS (
    INSERT INTO "message_dedup" ("account_id", "dedup_key", "message_id", "received_at")
    SELECT "account_id", "dedup_key", "id", "received_at" FROM "msg" WHERE "dedup_key" IS NOT NULL)`;
  return { ctes, ids };
}

/**
 * A store statement ({@link messageInsertCtes}: one VALUES row per message, so one text per number of messages) runs
 * as a named prepared statement for up to this many messages, and unnamed beyond. Each text kept prepared holds its
 * cached plan in every pool connection's backend until the connection closes: measured on PostgreSQL 15, the journal
 * stores of 2 to 8 copies add about 1.6 MB there to the 1.5 MB of the three hot statements, those of 2 to 64 (the
 * group commit's default maxBatch) 38 MB (tools/bench/micro/prepared-hot-statements.mjs). Group commits are mostly of
 * 1 to 3 copies.
 */
export const PREPARED_STORE_MAX_MESSAGES = 8;

/** `query`, a store of `messages` messages, prepared when it is of at most {@link PREPARED_STORE_MAX_MESSAGES}. */
export function preparedStore(query: Prisma.Sql, messages: number): Prisma.Sql {
  return messages <= PREPARED_STORE_MAX_MESSAGES ? preparedSql(query) : query;
}

/**
 * CTE `scan_ended`: deletes the messages' rows of "message_scan" (the state of a PENDING message: attempts, last
 * error; migration 20261207120000) and returns their "message_id" and "attempts", for the statement that ends the
 * scans (verdicts, or the FAILED mark) to keep on each message.
 */
export function endScanCte(ids: readonly string[]): Prisma.Sql {
  return Prisma.sql`"scan_ended" AS (DELETE FROM "message_scan" WHERE "message_id" = ANY(${[...ids]}::uuid[]) RETURNING "message_id", "attempts")`;
}

/**
 * `AND <column> >= … AND <column> < …` covering the times of every id (the union of {@link receivedAround}'s bounds),
 * so a statement on several messages touches the partitions of those days only; nothing when an id carries no time.
 */
export function receivedAroundAll(ids: readonly string[], column: Prisma.Sql): Prisma.Sql {
  const ranges = ids.map((id) => receivedRange(id));
  if (ranges.length === 0 || ranges.some((range) => !range)) {
    return Prisma.empty;
  }
  const gte = new Date(Math.min(...ranges.map((range) => range!.gte.getTime())));
  const lt = new Date(Math.max(...ranges.map((range) => range!.lt.getTime())));
  return Prisma.sql` AND ${column} >= ${gte}::timestamptz AND ${column} < ${lt}::timestamptz`;
}

/**
 * CTEs writing, for each message of `writes` that the CTE `messageCte` returns (no row: nothing of it is written),
 * one verdict per recipient, a quarantine item for each QUARANTINE decision (enforced=false for "would have been
 * quarantined"), the recipients' event history, the tenants' hourly statistics (one upsert per key for all the
 * messages) and each message's outbox event for the SIEM export, in the same statement and so the same transaction.
 * `messageCte` must return "id", "account_id", "direction", "envelope_from". One builder for a single message (the
 * gateway's `storeProcessed`, `saveVerdicts`) and a group commit of many (`saveVerdictsMany`).
 */
export function verdictInsertCtes(messageCte: 'msg' | 'claimed', writes: ReadonlyArray<Pick<VerdictWrite, 'verdicts' | 'quarantineExpiresAt'> & { message: { id: string } }>): Prisma.Sql {
  const rows = writes.flatMap((write) =>
    write.verdicts.map((verdict) => ({
      message_id: write.message.id,
      recipient: verdict.recipient.toLowerCase(),
      checks: verdict.checks,
      failed_check: verdict.failedCheck ?? null,
      decided_action: verdict.decidedAction,
      applied_action: verdict.appliedAction ?? null,
      enforced: verdict.enforced,
      reasons: verdict.reasons,
      skipped_reason: verdict.skippedReason ?? null,
      quarantine_reason: verdict.quarantineReason ?? null,
      quarantine_expires_at: write.quarantineExpiresAt ?? null,
    })),
  );
  const source = Prisma.raw(`"${messageCte}"`);
  return Prisma.sql`"verdict_input" AS (
    SELECT * FROM ${jsonRows(rows)} AS v("message_id" uuid, "recipient" text, "checks" jsonb, "failed_check" text, "decided_action" "PolicyAction",
      "applied_action" "PolicyAction", "enforced" boolean, "reasons" jsonb, "skipped_reason" text, "quarantine_reason" text, "quarantine_expires_at" timestamptz)),
  "new_verdict" AS (
    INSERT INTO "verdict" ("message_id", "recipient", "checks", "failed_check", "decided_action", "applied_action", "enforced", "reasons", "skipped_reason")
    SELECT m."id", v."recipient", v."checks", v."failed_check", v."decided_action", v."applied_action", v."enforced", v."reasons", v."skipped_reason"
    FROM ${source} m JOIN "verdict_input" v ON v."message_id" = m."id"
    RETURNING "id", "message_id", "recipient", "decided_action", "failed_check", "enforced"),
  "new_quarantine" AS (
    INSERT INTO "quarantine_item" ("account_id", "message_id", "verdict_id", "recipient", "reason", "enforced", "expires_at")
    SELECT m."account_id", nv."message_id", nv."id", nv."recipient", COALESCE(v."quarantine_reason", nv."failed_check", 'policy'), nv."enforced",
      v."quarantine_expires_at"
    FROM "new_verdict" nv JOIN "verdict_input" v ON v."message_id" = nv."message_id" AND v."recipient" = nv."recipient" JOIN ${source} m ON m."id" = nv."message_id"
    WHERE nv."decided_action" = 'QUARANTINE'),
  ${verdictEventCte()},
  ${statsRollupCtes(messageCte)},
  "new_outbox" AS (
    INSERT INTO "outbox_event" ("topic", "aggregate_id", "account_id", "payload")
    SELECT ${VERDICT_TOPIC}, m."id"::text, m."account_id", jsonb_build_object('messageId', m."id")
    FROM ${source} m)`;
}

/** Concurrent verdict writes of one tenant spread their rollup upserts over this many rows per key. */
export const STATS_SHARDS = 8;

/**
 * CTEs `stats_rows`, `new_stats` and `new_top_stats` (issue 13 §4): the new verdicts added to the tenant's hourly
 * aggregates (stats_hourly; stats_top_hourly for senders and recipients of mail not simply delivered, and matched
 * data-control rules). One upsert per key for all the messages of the statement (a group commit of several tenants'
 * verdicts too), in key order on one shard chosen per statement: concurrent writers rarely share a row, and never
 * lock two rows in opposite orders. `messageCte` must return "id", "account_id", "direction", "envelope_from".
 */
function statsRollupCtes(messageCte: 'msg' | 'claimed'): Prisma.Sql {
  const source = Prisma.raw(`"${messageCte}"`);
  const shard = Math.floor(Math.random() * STATS_SHARDS);
  const hour = Prisma.sql`date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
  return Prisma.sql`"stats_rows" AS (
    SELECT nv."message_id", nv."recipient", nv."decided_action", COALESCE(v."applied_action"::text, 'NONE') AS "applied_action",
      COALESCE(nv."failed_check", '') AS "failed_check", v."reasons", m."direction", m."envelope_from",
      (nv."decided_action" <> 'DELIVER' OR nv."failed_check" IS NOT NULL) AS "threat", m."account_id"
    FROM "new_verdict" nv JOIN "verdict_input" v ON v."message_id" = nv."message_id" AND v."recipient" = nv."recipient" JOIN ${source} m ON m."id" = nv."message_id"),
  "new_stats" AS (
    INSERT INTO "stats_hourly" ("account_id", "hour", "direction", "decided_action", "applied_action", "failed_check", "shard", "count")
    SELECT s."account_id", ${hour}, s."direction", s."decided_action", s."applied_action", s."failed_check", ${shard}::smallint, count(*)
    FROM "stats_rows" s
    GROUP BY s."account_id", s."direction", s."decided_action", s."applied_action", s."failed_check"
    ORDER BY s."account_id", s."direction", s."decided_action", s."applied_action", s."failed_check"
    ON CONFLICT ("account_id", "hour", "direction", "decided_action", "applied_action", "failed_check", "shard")
    DO UPDATE SET "count" = "stats_hourly"."count" + EXCLUDED."count"),
  "new_top_stats" AS (
    INSERT INTO "stats_top_hourly" ("account_id", "dimension", "hour", "value", "shard", "count")
    SELECT t."account_id", t."dimension", ${hour}, t."value", ${shard}::smallint, count(*)
    FROM (
      SELECT DISTINCT s."account_id", 'sender' AS "dimension", COALESCE(NULLIF(s."envelope_from", ''), '<>') AS "value", s."message_id" FROM "stats_rows" s WHERE s."threat"
      UNION ALL
      SELECT s."account_id", 'recipient', s."recipient", s."message_id" FROM "stats_rows" s WHERE s."threat"
      UNION ALL
      SELECT DISTINCT s."account_id", 'rule', r->>'source', s."message_id"
      FROM "stats_rows" s CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s."reasons") = 'array' THEN s."reasons" ELSE '[]'::jsonb END) r
      WHERE r->>'kind' = 'data-control' AND r->>'source' IS NOT NULL) t
    GROUP BY t."account_id", t."dimension", t."value"
    ORDER BY t."account_id", t."dimension", t."value"
    ON CONFLICT ("account_id", "dimension", "hour", "value", "shard")
    DO UPDATE SET "count" = "stats_top_hourly"."count" + EXCLUDED."count")`;
}

/**
 * CTE `new_verdict_event` (issue 13 §4): each new verdict's entry in the recipient's event history, SCANNED with the
 * decided action, and QUARANTINED for a quarantine decision (enforced false: "would have been quarantined"). Part of
 * the verdict write's statement, so the history has an entry exactly when the verdict exists.
 */
function verdictEventCte(): Prisma.Sql {
  return Prisma.sql`"new_verdict_event" AS (
    INSERT INTO "recipient_event" ("message_id", "recipient", "type", "action", "detail")
    SELECT nv."message_id", nv."recipient", e."type", nv."decided_action",
      jsonb_strip_nulls(jsonb_build_object('appliedAction', v."applied_action", 'enforced', nv."enforced", 'failedCheck', nv."failed_check", 'skippedReason', v."skipped_reason"))
    FROM "new_verdict" nv JOIN "verdict_input" v ON v."message_id" = nv."message_id" AND v."recipient" = nv."recipient"
      CROSS JOIN (VALUES ('SCANNED'::"RecipientEventType"), ('QUARANTINED'::"RecipientEventType")) AS e("type")
    WHERE e."type" = 'SCANNED' OR nv."decided_action" = 'QUARANTINE')`;
}

/**
 * Outbox topic of a message's verdicts (one row per message, written by the verdict statement itself): the SIEM
 * export (libs/export) turns it into an OCSF Email Activity event.
 */
export const VERDICT_TOPIC = 'verdict';

/**
 * CTE writing each recipient's copy (action, initial state, subject tag) for each message of `writes` that CTE `msg`
 * returns. A write with `claimLeaseMs` has its QUEUED copies claimed as they are stored ("claimed_until", as
 * `DeliveryRepository.claimCopies` would set it): the gateway's in-process delivery relays them without a claim
 * statement of its own.
 */
export function deliveryInsertCtes(writes: ReadonlyArray<{ message: { id: string }; copies: readonly RecipientDeliveryInput[]; claimLeaseMs?: number | null }>): Prisma.Sql {
  const rows = writes.flatMap((write) =>
    write.copies.map((copy) => ({
      message_id: write.message.id,
      recipient: copy.recipient.toLowerCase(),
      action: copy.action,
      state: copy.state,
      subject_tag: copy.subjectTag ?? null,
      claim_ms: copy.state === 'QUEUED' ? (write.claimLeaseMs ?? null) : null,
    })),
  );
  return Prisma.sql`"new_delivery" AS (
    INSERT INTO "recipient_delivery" ("message_id", "recipient", "action", "state", "subject_tag", "claimed_until")
    SELECT m."id", d."recipient", d."action", d."state", d."subject_tag", now() + d."claim_ms" * interval '1 millisecond'
    FROM "msg" m JOIN ${jsonRows(rows)} AS d("message_id" uuid, "recipient" text, "action" "PolicyAction", "state" "DeliveryState", "subject_tag" text, "claim_ms" int) ON d."message_id" = m."id")`;
}

/** A unique-constraint violation, as node-postgres (SQLSTATE 23505) and Prisma (P2002, or 23505 in meta) report it. */
export function isUniqueViolation(error: unknown): boolean {
  const { code, meta, message } = error as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { kind?: string } } }; message?: string };
  return code === 'P2002' || code === '23505' || meta?.code === '23505' || meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation' || /\b23505\b|unique constraint/i.test(message ?? '');
}

/** Every column of "message" under its Prisma field name, so a row read with node-postgres is a `Message`. */
export const MESSAGE_COLUMNS = Prisma.raw(
  [
    ['id', 'id'],
    ['account_id', 'accountId'],
    ['source', 'source'],
    ['direction', 'direction'],
    ['envelope_from', 'envelopeFrom'],
    ['envelope_to', 'envelopeTo'],
    ['header_from', 'headerFrom'],
    ['subject', 'subject'],
    ['message_id_header', 'messageIdHeader'],
    ['size', 'size'],
    ['client_ip', 'clientIp'],
    ['helo', 'helo'],
    ['received_at', 'receivedAt'],
    ['raw_message_id', 'rawMessageId'],
    ['dedup_key', 'dedupKey'],
    ['scan_status', 'scanStatus'],
    ['scanned_at', 'scannedAt'],
    ['scan_attempts', 'scanAttempts'],
    ['scan_error', 'scanError'],
    ['delivery_state', 'deliveryState'],
    ['metadata', 'metadata'],
    ['envelope_from_domain', 'envelopeFromDomain'],
    ['header_from_domain', 'headerFromDomain'],
  ]
    .map(([column, field]) => `m."${column}" AS "${field}"`)
    .join(', '),
);
