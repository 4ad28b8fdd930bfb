-- GIN indexes on the message table update in place on every insert instead of collecting a pending list: the list is
-- merged into the index by whichever insert or update finds it over gin_pending_list_limit, and that statement
-- (a journal copy's store, a scan's verdict write) then takes hundreds of milliseconds (the p99 of 250 → verdict).
ALTER INDEX "message_envelope_to_idx" SET (fastupdate = off);
ALTER INDEX "message_subject_trgm_idx" SET (fastupdate = off);
