-- Message history search at scale (tools/bench growth scenario): a subject substring search (ILIKE '%…%') read
-- every message of the account (≈0.5 s at 1M messages), and the failed-check filter every verdict.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateIndex
CREATE INDEX "message_subject_trgm_idx" ON "message" USING GIN ("subject" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "verdict_failed_check_message_id_idx" ON "verdict"("failed_check", "message_id");
