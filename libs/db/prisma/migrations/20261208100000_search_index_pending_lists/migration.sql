-- Issue 20, performance: the two GIN indexes of "message" (subject trigrams, envelope recipients) take new entries
-- into their pending list again, flushed in bulk by the scan workers, instead of inserting each entry into the tree.
--
-- Measured (tools/bench/README.md, "PostgreSQL per statement"): with "fastupdate = off" (migration 20261206160000)
-- each stored message inserted every trigram of its subject (~30) into its own posting tree, each a WAL record
-- rewriting a compressed leaf segment: 17.5 KB of WAL per row for the trigram index alone against 1.9 KB for the
-- heap row and the other eight indexes together (4.5 KB for all nine with the pending list, its flush included),
-- and about three quarters of the index CPU of a store. The pending list appends the row's entries to a list page
-- (one WAL record) and a flush inserts them sorted, one posting tree update per key for many rows.
--
-- "fastupdate = off" had been chosen because the flush then ran inside whichever store crossed the 4 MB default
-- limit (a p99 hit). Now the scan workers flush every second (mw_flush_search_pending, SearchIndexFlushService), so
-- a store seldom finds a full list, and the limit is 1 MB: a store that does flush (no worker running) merges at
-- most about 1,700 rows' entries. A search reads the pending list besides the tree (at most 1 MB per partition).
--
-- A partitioned index's storage parameters cannot be altered (PostgreSQL: "not supported for partitioned
-- indexes"), and rebuilding both indexes over all history would make this migration long. So the parameters are set
-- on each partition's index, and mw_ensure_day_partition gives a new partition's indexes those of the newest
-- partition's (as it already did for the table's own parameters, then taken from the legacy partition only: once
-- retention dropped "message_legacy", new partitions lost fillfactor = 60).

-- 1. Every partition's GIN indexes of "message".
DO $$
DECLARE "r" RECORD;
BEGIN
    FOR "r" IN
        SELECT t.relid FROM pg_partition_tree('message_subject_trgm_idx') t WHERE t.isleaf
        UNION ALL
        SELECT t.relid FROM pg_partition_tree('message_envelope_to_idx') t WHERE t.isleaf
    LOOP
        EXECUTE format('ALTER INDEX %s SET (fastupdate = on, gin_pending_list_limit = 1024)', "r".relid::regclass);
    END LOOP;
END;
$$;

-- 2. New day partitions: the table's and each index's storage parameters of the newest existing partition.
CREATE OR REPLACE FUNCTION "mw_ensure_day_partition"("parent" TEXT, "day" DATE) RETURNS BOOLEAN AS $$
DECLARE
    "name" TEXT := "parent" || '_p' || to_char("day", 'YYYYMMDD');
    "low" TIMESTAMPTZ := ("day"::timestamp AT TIME ZONE 'UTC');
    "template" OID;
    "options" TEXT[];
    "r" RECORD;
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
    -- The partition whose range ends last (the legacy one while it is the only one).
    SELECT c.oid INTO "template" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = format('%I', "parent")::regclass AND NOT i.inhdetachpending
    ORDER BY (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz DESC NULLS LAST
    LIMIT 1;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)', "name", "parent");
    SELECT c.reloptions INTO "options" FROM pg_class c WHERE c.oid = "template";
    IF "options" IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %I SET (%s)', "name", array_to_string("options", ', '));
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', "parent", "name", "low", "low" + interval '1 day');
    -- Each index the attach made: the parameters of the template's index of the same parent index.
    FOR "r" IN
        SELECT x.indexrelid AS "idx", t.reloptions AS "options"
        FROM pg_index x
        JOIN pg_inherits ip ON ip.inhrelid = x.indexrelid
        JOIN pg_inherits it ON it.inhparent = ip.inhparent
        JOIN pg_index tx ON tx.indexrelid = it.inhrelid AND tx.indrelid = "template"
        JOIN pg_class t ON t.oid = tx.indexrelid
        WHERE x.indrelid = format('%I', "name")::regclass AND t.reloptions IS NOT NULL
    LOOP
        EXECUTE format('ALTER INDEX %s SET (%s)', "r"."idx"::regclass, array_to_string("r"."options", ', '));
    END LOOP;
    RETURN TRUE;
END;
$$ LANGUAGE plpgsql;

-- 3. The flush: every pending list of the two indexes into its tree (gin_clean_pending_list; a partition's list
-- that is empty costs a read of its metapage). Runs as the owner of the indexes (gin_clean_pending_list requires
-- it); one caller at a time, the others return at once (-1). Returns the pending list pages flushed.
CREATE FUNCTION "mw_flush_search_pending"() RETURNS BIGINT AS $$
DECLARE
    "pages" BIGINT := 0;
    "r" RECORD;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('mw_flush_search_pending')) THEN
        RETURN -1;
    END IF;
    FOR "r" IN
        SELECT t.relid FROM pg_partition_tree('message_subject_trgm_idx') t WHERE t.isleaf
        UNION ALL
        SELECT t.relid FROM pg_partition_tree('message_envelope_to_idx') t WHERE t.isleaf
    LOOP
        "pages" := "pages" + gin_clean_pending_list("r".relid::regclass);
    END LOOP;
    RETURN "pages";
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog;
