-- Issue 14: the audit id comes from one global sequence, so the gaps a tenant saw in its own ids measured every
-- other tenant's activity. Each event now also gets a number in its account's sequence and one in its partner's
-- (1, 2, 3 ... per account / partner, no gaps from others); the API orders and pages by them and no longer shows
-- the global id.

ALTER TABLE "audit_event" ADD COLUMN "account_seq" BIGINT, ADD COLUMN "partner_seq" BIGINT;

-- The last number handed out per scope ('account:<uuid>' or 'partner:<uuid>'). Taking a number locks the scope's
-- row until the transaction ends, so one account's audit entries are numbered in commit order, without gaps.
CREATE TABLE "audit_sequence" (
    "scope" TEXT NOT NULL,
    "last" BIGINT NOT NULL,
    CONSTRAINT "audit_sequence_pkey" PRIMARY KEY ("scope")
);

CREATE FUNCTION "audit_event_next_seq"(scope TEXT) RETURNS BIGINT AS $$
    INSERT INTO "audit_sequence" ("scope", "last") VALUES (scope, 1)
        ON CONFLICT ("scope") DO UPDATE SET "last" = "audit_sequence"."last" + 1
        RETURNING "last";
$$ LANGUAGE sql;

CREATE FUNCTION "audit_event_number"() RETURNS trigger AS $$
BEGIN
    IF NEW."account_id" IS NOT NULL THEN
        NEW."account_seq" := "audit_event_next_seq"('account:' || NEW."account_id");
    END IF;
    IF NEW."partner_id" IS NOT NULL THEN
        NEW."partner_seq" := "audit_event_next_seq"('partner:' || NEW."partner_id");
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "audit_event_number" BEFORE INSERT ON "audit_event"
    FOR EACH ROW EXECUTE FUNCTION "audit_event_number"();

-- Number the events already written, in id order (the one time the append-only table is changed).
ALTER TABLE "audit_event" DISABLE TRIGGER "audit_event_no_update_or_delete";
UPDATE "audit_event" e SET "account_seq" = n."seq"
    FROM (SELECT "id", row_number() OVER (PARTITION BY "account_id" ORDER BY "id") AS "seq" FROM "audit_event" WHERE "account_id" IS NOT NULL) n
    WHERE e."id" = n."id";
UPDATE "audit_event" e SET "partner_seq" = n."seq"
    FROM (SELECT "id", row_number() OVER (PARTITION BY "partner_id" ORDER BY "id") AS "seq" FROM "audit_event" WHERE "partner_id" IS NOT NULL) n
    WHERE e."id" = n."id";
ALTER TABLE "audit_event" ENABLE TRIGGER "audit_event_no_update_or_delete";
INSERT INTO "audit_sequence" ("scope", "last")
    SELECT 'account:' || "account_id", max("account_seq") FROM "audit_event" WHERE "account_id" IS NOT NULL GROUP BY "account_id"
    UNION ALL
    SELECT 'partner:' || "partner_id", max("partner_seq") FROM "audit_event" WHERE "partner_id" IS NOT NULL GROUP BY "partner_id";

CREATE UNIQUE INDEX "audit_event_account_id_account_seq_key" ON "audit_event"("account_id", "account_seq");
CREATE UNIQUE INDEX "audit_event_partner_id_partner_seq_key" ON "audit_event"("partner_id", "partner_seq");
