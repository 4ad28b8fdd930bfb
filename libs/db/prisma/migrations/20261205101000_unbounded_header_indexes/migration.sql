-- Any header smtp-server accepts must be storable (issue 12). A btree entry may not exceed ~2.7 KB (a third of a
-- page), so a Message-ID of 2,800 characters, a From address of 10 KB or a Google copy naming 200 recipients (its
-- dedup key) made every store fail with "index row size exceeds btree maximum": 451 for ever, and the message never
-- reached the journal. The searches on these columns are equalities: hash indexes serve them and store only a 32-bit
-- hash of the value, whatever its length. The dedup key is stored as its SHA-256 (hex), which the unique btree takes.

-- DropIndex
DROP INDEX "message_account_id_message_id_header_idx";
DROP INDEX "message_account_id_header_from_idx";
DROP INDEX "message_account_id_envelope_from_idx";

-- CreateIndex
CREATE INDEX "message_message_id_header_idx" ON "message" USING HASH ("message_id_header");
CREATE INDEX "message_header_from_idx" ON "message" USING HASH ("header_from");
CREATE INDEX "message_envelope_from_idx" ON "message" USING HASH ("envelope_from");

-- Existing dedup keys become digests, as the application now writes them (libs/db dedupDigest).
UPDATE "message" SET "dedup_key" = encode(sha256(convert_to("dedup_key", 'UTF8')), 'hex') WHERE "dedup_key" IS NOT NULL;
