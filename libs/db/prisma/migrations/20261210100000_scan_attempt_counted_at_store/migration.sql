-- Issue 20, performance: the journal ingest counts the first scan attempt of a copy it will scan itself when it
-- stores the copy, instead of in a statement (and transaction) of its own right after the commit.
--
-- The ingest writes "scan_attempts" = 1 on such a copy's row (0 otherwise, as before); the trigger that creates the
-- "message_scan" row of a PENDING message starts its count there. A crash after the 250 and before the in-process
-- scan leaves the row with that attempt counted, as if the scan had started (the sweeper queues it; MAX_SCAN_ATTEMPTS
-- still ends a copy whose scans keep killing the process). A copy the ingest then hands to the scan queue unscanned
-- (its in-process scanner full, shutting down) has the attempt released again (libs/scanning `InlineScans`).
CREATE OR REPLACE FUNCTION "message_scan_pending"() RETURNS trigger AS $$
BEGIN
    -- ON CONFLICT: an UPDATE of "received_at" that moves a row to another partition is a delete and an insert.
    INSERT INTO "message_scan" ("message_id", "account_id", "received_at", "attempts") VALUES (NEW."id", NEW."account_id", NEW."received_at", NEW."scan_attempts")
    ON CONFLICT ("message_id") DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
