-- SIEM export (issue 17): the outbox gains the id of the transaction that wrote each row and the owning account,
-- and destinations with their own cursors.

-- The writer's transaction id (xid8 as bigint). The exporter reads only rows whose transaction is older than the
-- oldest one still running (pg_snapshot_xmin), in (tx_id, id) order: a row committed late by a transaction that
-- began early can then never fall behind a cursor that has already moved past its id.
ALTER TABLE "outbox_event"
    ADD COLUMN "tx_id" BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    ADD COLUMN "account_id" UUID;

CREATE INDEX "outbox_event_tx_id_id_idx" ON "outbox_event"("tx_id", "id");

CREATE TYPE "ExportDestinationKind" AS ENUM ('HEC', 'WEBHOOK', 'SYSLOG', 'NDJSON');

CREATE TABLE "export_destination" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "partner_id" UUID,
    "account_id" UUID,
    "name" TEXT NOT NULL,
    "kind" "ExportDestinationKind" NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "encrypted_credentials" TEXT,
    "class_uids" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "min_severity_id" INTEGER NOT NULL DEFAULT 0,
    "actionable_only" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "cursor_tx_id" BIGINT NOT NULL,
    "cursor_id" BIGINT NOT NULL,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "last_success_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "events_sent" BIGINT NOT NULL DEFAULT 0,
    "events_filtered" BIGINT NOT NULL DEFAULT 0,
    "batches_sent" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "export_destination_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "export_destination_one_owner" CHECK (("partner_id" IS NULL) <> ("account_id" IS NULL)),
    CONSTRAINT "export_destination_min_severity" CHECK ("min_severity_id" BETWEEN 0 AND 6)
);

CREATE INDEX "export_destination_account_id_idx" ON "export_destination"("account_id");
CREATE INDEX "export_destination_partner_id_idx" ON "export_destination"("partner_id");

ALTER TABLE "export_destination" ADD CONSTRAINT "export_destination_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "export_destination" ADD CONSTRAINT "export_destination_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
