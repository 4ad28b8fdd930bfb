-- Message history search by sender domain and by data-control rule (issue 13 §4).
-- The domain parts of the envelope sender and the header From, computed by PostgreSQL on every write (no writer
-- changes), each under a plain btree index next to the exact-address ones: `?senderDomain=` is two index lookups.
-- (Adding a stored generated column rewrites the table once.) Bounded to 255 characters: a domain is at most 253, and
-- an unbounded value of an attacker's 10 KB address would overflow the btree (issue 12 bug 3: 451 for ever).
ALTER TABLE "message"
  ADD COLUMN "envelope_from_domain" TEXT GENERATED ALWAYS AS (NULLIF(lower(left(split_part("envelope_from", '@', 2), 255)), '')) STORED,
  ADD COLUMN "header_from_domain" TEXT GENERATED ALWAYS AS (NULLIF(lower(left(split_part("header_from", '@', 2), 255)), '')) STORED;

-- CreateIndex
CREATE INDEX "message_account_id_envelope_from_domain_idx" ON "message"("account_id", "envelope_from_domain");

-- CreateIndex
CREATE INDEX "message_account_id_header_from_domain_idx" ON "message"("account_id", "header_from_domain");

-- Verdicts a data-control rule matched (`?dataControlRule=`): a GIN index over the reasons, partial so that only the
-- few verdicts with a data-control reason pay for it on the verdict write; the search repeats the predicate.
CREATE INDEX "verdict_data_control_reasons_idx" ON "verdict" USING GIN ("reasons" jsonb_path_ops)
  WHERE "reasons" @> '[{"kind": "data-control"}]';
ALTER INDEX "verdict_data_control_reasons_idx" SET (fastupdate = off);
