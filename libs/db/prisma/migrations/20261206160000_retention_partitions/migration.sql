-- Retention (issue 20): the large per-message tables become PostgreSQL declarative partitions by time, one
-- partition per UTC day, so a day past every tenant's window is dropped (detached, then dropped) instead of deleted
-- row by row. Data-preserving: each existing table is attached as-is as the partition "<table>_legacy" covering
-- everything before tomorrow (no copy; PostgreSQL validates the range and builds only the new primary key index).
--
--   message          by received_at  (primary key id, received_at)
--   raw_message      by created_at   (written in the same statement as its message: same now(), same day)
--   verdict          by created_at
--   recipient_event  by occurred_at
--   outbox_event     by created_at
--
-- Uniqueness on a partitioned table must include the partition key, so:
--   * the journal dedup key (account, SHA-256 of Message-ID + recipients) moves to "message_dedup", a plain table
--     written by the message's own statement: a duplicate copy still fails that statement whole (nothing of it is
--     kept) and the writer returns the first copy, exactly as the unique index on "message" did;
--   * verdict (message_id, recipient) stays unique per partition only; exactly one verdict write per message is
--     the claim of the PENDING message row (UPDATE … WHERE scan_status = 'PENDING'), which the crash tests prove.
-- Foreign keys cannot point at a partitioned table's id alone: the ones into these tables are dropped; the
-- single-statement writers keep the rows consistent and the retention purge removes children with their message.

-- 1. The dedup keys, out of the partitioned table.
CREATE TABLE "message_dedup" (
    "account_id" UUID NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "message_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "message_dedup_pkey" PRIMARY KEY ("account_id", "dedup_key")
);
CREATE INDEX "message_dedup_received_at_idx" ON "message_dedup"("received_at");
ALTER TABLE "message_dedup" ADD CONSTRAINT "message_dedup_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
INSERT INTO "message_dedup" ("account_id", "dedup_key", "message_id", "received_at")
SELECT "account_id", "dedup_key", "id", "received_at" FROM "message" WHERE "dedup_key" IS NOT NULL;

-- 2. Foreign keys into the tables that become partitioned.
ALTER TABLE "message" DROP CONSTRAINT "message_raw_message_id_fkey";
ALTER TABLE "verdict" DROP CONSTRAINT "verdict_message_id_fkey";
ALTER TABLE "quarantine_item" DROP CONSTRAINT "quarantine_item_message_id_fkey";
ALTER TABLE "quarantine_item" DROP CONSTRAINT "quarantine_item_verdict_id_fkey";
ALTER TABLE "recipient_delivery" DROP CONSTRAINT "recipient_delivery_message_id_fkey";
ALTER TABLE "recipient_event" DROP CONSTRAINT "recipient_event_message_id_fkey";
ALTER TABLE "m365_remediation_item" DROP CONSTRAINT "m365_remediation_item_message_id_fkey";
ALTER TABLE "message" DROP CONSTRAINT "message_account_id_fkey";

-- 3. Day partitions: created ahead by the retention job (RetentionRepository.ensurePartitions) and here. A partition
-- is made as a plain table and attached, which takes only SHARE UPDATE EXCLUSIVE on the parent (CREATE TABLE …
-- PARTITION OF would block the message path's inserts for the moment it takes).
CREATE FUNCTION "mw_ensure_day_partition"("parent" TEXT, "day" DATE) RETURNS BOOLEAN AS $$
DECLARE
    "name" TEXT := "parent" || '_p' || to_char("day", 'YYYYMMDD');
    "low" TIMESTAMPTZ := ("day"::timestamp AT TIME ZONE 'UTC');
BEGIN
    IF to_regclass(format('%I', "name")) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    -- A day the legacy partition already covers needs none.
    IF EXISTS (
        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = format('%I', "parent")::regclass AND c.relname = "parent" || '_legacy'
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz > "low") THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)', "name", "parent");
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', "parent", "name", "low", "low" + interval '1 day');
    RETURN TRUE;
END;
$$ LANGUAGE plpgsql;

-- 4. Each table: renamed to <table>_legacy with its indexes and constraints, a partitioned table of the same shape
-- under the old name, the legacy table attached for everything before tomorrow, the indexes re-declared on the
-- parent (PostgreSQL attaches the legacy table's identical indexes instead of building them).
CREATE FUNCTION "mw_partition_by_day"("tbl" TEXT, "col" TEXT, "pk" TEXT) RETURNS VOID AS $$
DECLARE
    "legacy" TEXT := "tbl" || '_legacy';
    "bound" TIMESTAMPTZ := (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC';
    "r" RECORD;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', "tbl", "legacy");
    FOR "r" IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = format('%I', "legacy")::regclass LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', "r".relname, left("r".relname, 55) || '_legacy');
    END LOOP;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (%I)', "tbl", "legacy", "col");
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', "tbl", "legacy", "bound");
    -- The legacy table's own primary key (id only) is replaced by the parent's.
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', "legacy", left("tbl" || '_pkey', 55) || '_legacy');
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%s)', "tbl", "tbl" || '_pkey', "pk");
END;
$$ LANGUAGE plpgsql;

-- message
SELECT "mw_partition_by_day"('message', 'received_at', '"id", "received_at"');
ALTER TABLE "message_legacy" DROP CONSTRAINT IF EXISTS "message_account_id_dedup_key_key_legacy";
DROP INDEX IF EXISTS "message_account_id_dedup_key_key_legacy";
CREATE INDEX "message_account_id_received_at_id_idx" ON "message"("account_id", "received_at" DESC, "id" DESC);
CREATE INDEX "message_message_id_header_idx" ON "message" USING HASH ("message_id_header");
CREATE INDEX "message_envelope_from_idx" ON "message" USING HASH ("envelope_from");
CREATE INDEX "message_header_from_idx" ON "message" USING HASH ("header_from");
CREATE INDEX "message_account_id_envelope_from_domain_idx" ON "message"("account_id", "envelope_from_domain");
CREATE INDEX "message_account_id_header_from_domain_idx" ON "message"("account_id", "header_from_domain");
CREATE INDEX "message_envelope_to_idx" ON "message" USING GIN ("envelope_to") WITH (fastupdate = off);
CREATE INDEX "message_subject_trgm_idx" ON "message" USING GIN ("subject" gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX "message_scan_status_received_at_idx" ON "message"("scan_status", "received_at");
ALTER TABLE "message" ADD CONSTRAINT "message_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- raw_message
SELECT "mw_partition_by_day"('raw_message', 'created_at', '"id", "created_at"');

-- verdict
SELECT "mw_partition_by_day"('verdict', 'created_at', '"id", "created_at"');
ALTER TABLE "verdict_legacy" DROP CONSTRAINT IF EXISTS "verdict_message_id_recipient_key_legacy";
DROP INDEX IF EXISTS "verdict_message_id_recipient_key_legacy";
CREATE UNIQUE INDEX "verdict_message_id_recipient_key" ON "verdict"("message_id", "recipient", "created_at");
CREATE INDEX "verdict_decided_action_created_at_idx" ON "verdict"("decided_action", "created_at");
CREATE INDEX "verdict_failed_check_message_id_idx" ON "verdict"("failed_check", "message_id");
CREATE INDEX "verdict_data_control_reasons_idx" ON "verdict" USING GIN ("reasons" jsonb_path_ops) WITH (fastupdate = off)
    WHERE "reasons" @> '[{"kind": "data-control"}]'::jsonb;

-- recipient_event (its id sequence moves to the parent, or dropping the legacy partition would drop it)
SELECT "mw_partition_by_day"('recipient_event', 'occurred_at', '"id", "occurred_at"');
ALTER SEQUENCE "recipient_event_id_seq" OWNED BY "recipient_event"."id";
CREATE INDEX "recipient_event_message_id_id_idx" ON "recipient_event"("message_id", "id");

-- outbox_event
SELECT "mw_partition_by_day"('outbox_event', 'created_at', '"id", "created_at"');
ALTER SEQUENCE "outbox_event_id_seq" OWNED BY "outbox_event"."id";
CREATE INDEX "outbox_event_topic_published_at_id_idx" ON "outbox_event"("topic", "published_at", "id");
CREATE INDEX "outbox_event_tx_id_id_idx" ON "outbox_event"("tx_id", "id");

DROP FUNCTION "mw_partition_by_day"(TEXT, TEXT, TEXT);

-- The current period: the next week of days (the legacy partitions hold today).
SELECT "mw_ensure_day_partition"(t, (now() AT TIME ZONE 'UTC')::date + d)
FROM unnest(ARRAY['message', 'raw_message', 'verdict', 'recipient_event', 'outbox_event']) AS t, generate_series(1, 7) AS d;

-- 5. Retention settings are a policy kind: ACCOUNT scope (the tenant's windows), PARTNER scope (the ceiling).
ALTER TYPE "PolicyKind" ADD VALUE 'RETENTION';

-- 6. The audit log stays append-only, except for the retention purge of events older than the tenant's window
-- (a transaction that sets mailwarden.audit_retention, as RetentionRepository.purgeAuditLog does).
CREATE OR REPLACE FUNCTION "audit_event_append_only"() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('mailwarden.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
