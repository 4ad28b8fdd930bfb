-- Issue 20, performance: "message" becomes (nearly) write-once, and raw bytes are stored without compression.
--
-- Until now a journal copy's row was written three times: inserted by the ingest, updated by the scan's attempt
-- counter, updated again by the verdict statement. "scan_status" was a column of an index, so the verdict's update
-- could never be HOT and wrote a new entry into every index of "message" (two of them GIN), with the WAL for each
-- (tools/bench/README.md, "Profile of the end-to-end regression").
--
-- 1. The state that changes while a message waits for its scan (attempts, last error) lives in "message_scan", a
--    narrow table with a row per PENDING message only: inserted with the message (trigger below, so every writer of
--    a PENDING message gets one), updated by each scan attempt, deleted by the statement that ends the scan (the
--    verdict write or the FAILED mark). It is also the sweeper's list of PENDING messages, so "message" needs no
--    index on "scan_status".
-- 2. The verdict statement still sets "scan_status" / "scanned_at" on "message" (what history, export and the
--    admin API read, and the claim that makes exactly one verdict write win), but no index names those columns any
--    more and the partitions leave 40 % of each page free: the update is HOT (no index entry is written).
-- 3. raw_message.content: STORAGE EXTERNAL (out of line, not compressed). pglz over 20 KB of mostly incompressible
--    MIME (base64 parts) cost CPU in the ingest's backend for little space.

-- 1. Scan state of PENDING messages.
CREATE TABLE "message_scan" (
    "message_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    CONSTRAINT "message_scan_pkey" PRIMARY KEY ("message_id")
);
CREATE INDEX "message_scan_received_at_idx" ON "message_scan"("received_at");
ALTER TABLE "message_scan" ADD CONSTRAINT "message_scan_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
INSERT INTO "message_scan" ("message_id", "account_id", "received_at", "attempts", "last_error")
SELECT "id", "account_id", "received_at", "scan_attempts", "scan_error" FROM "message" WHERE "scan_status" = 'PENDING';

CREATE FUNCTION "message_scan_pending"() RETURNS trigger AS $$
BEGIN
    -- ON CONFLICT: an UPDATE of "received_at" that moves a row to another partition is a delete and an insert.
    INSERT INTO "message_scan" ("message_id", "account_id", "received_at") VALUES (NEW."id", NEW."account_id", NEW."received_at")
    ON CONFLICT ("message_id") DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- On the partitioned table: PostgreSQL clones it onto every partition, present and attached later.
CREATE TRIGGER "message_scan_pending" AFTER INSERT ON "message"
    FOR EACH ROW WHEN (NEW."scan_status" = 'PENDING') EXECUTE FUNCTION "message_scan_pending"();

-- 2. No index on the columns the verdict updates; room on each page for the updated row version.
DROP INDEX "message_scan_status_received_at_idx";
DO $$
DECLARE "r" RECORD;
BEGIN
    FOR "r" IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '"message"'::regclass LOOP
        EXECUTE format('ALTER TABLE %I SET (fillfactor = 60)', "r".relname);
    END LOOP;
END;
$$;

-- New day partitions take the storage parameters (fillfactor) of their table's legacy partition; the column
-- storage (EXTERNAL above) comes with LIKE … INCLUDING STORAGE, as before.
CREATE OR REPLACE FUNCTION "mw_ensure_day_partition"("parent" TEXT, "day" DATE) RETURNS BOOLEAN AS $$
DECLARE
    "name" TEXT := "parent" || '_p' || to_char("day", 'YYYYMMDD');
    "low" TIMESTAMPTZ := ("day"::timestamp AT TIME ZONE 'UTC');
    "options" TEXT[];
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
    SELECT c.reloptions INTO "options" FROM pg_class c WHERE c.oid = to_regclass(format('%I', "parent" || '_legacy'));
    IF "options" IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %I SET (%s)', "name", array_to_string("options", ', '));
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', "parent", "name", "low", "low" + interval '1 day');
    RETURN TRUE;
END;
$$ LANGUAGE plpgsql;

-- 3. Raw bytes out of line, uncompressed (the parent, and with it every partition).
ALTER TABLE "raw_message" ALTER COLUMN "content" SET STORAGE EXTERNAL;
