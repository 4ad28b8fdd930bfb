-- Microsoft 365 connection: admin consent, directory sync, clawback (issue 15).
-- Tables of their own (no relation fields on Account or Message), so this is one append to the schema.

-- CreateEnum
CREATE TYPE "M365SyncTrigger" AS ENUM ('SCHEDULED', 'ON_DEMAND', 'CSV_IMPORT');

-- CreateEnum
CREATE TYPE "M365SyncStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "M365RemediationAction" AS ENUM ('MOVE_TO_JUNK', 'MOVE_TO_DELETED_ITEMS', 'SOFT_DELETE', 'HARD_DELETE', 'RESTORE_TO_INBOX');

-- CreateEnum
CREATE TYPE "M365RemediationStatus" AS ENUM ('QUEUED', 'IN_PROGRESS', 'COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED');

-- CreateEnum
CREATE TYPE "M365RemediationItemStatus" AS ENUM ('QUEUED', 'IN_PROGRESS', 'COMPLETED', 'NOT_FOUND', 'ALREADY_IN_DESTINATION', 'FAILED');

-- CreateTable
CREATE TABLE "m365_connection" (
    "account_id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "consented_at" TIMESTAMPTZ(3) NOT NULL,
    "consented_by" TEXT NOT NULL,
    "users_delta_link" TEXT,
    "groups_delta_link" TEXT,
    "last_sync_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "m365_connection_pkey" PRIMARY KEY ("account_id")
);

-- CreateTable
CREATE TABLE "m365_directory_object" (
    "account_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "graph_id" TEXT NOT NULL,
    "local_id" UUID NOT NULL,

    CONSTRAINT "m365_directory_object_pkey" PRIMARY KEY ("account_id", "kind", "graph_id")
);

-- CreateTable
CREATE TABLE "m365_sync_run" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "trigger" "M365SyncTrigger" NOT NULL,
    "status" "M365SyncStatus" NOT NULL DEFAULT 'QUEUED',
    "full_sync" BOOLEAN NOT NULL DEFAULT false,
    "mailboxes_added" INTEGER NOT NULL DEFAULT 0,
    "mailboxes_updated" INTEGER NOT NULL DEFAULT 0,
    "mailboxes_removed" INTEGER NOT NULL DEFAULT 0,
    "groups_added" INTEGER NOT NULL DEFAULT 0,
    "groups_updated" INTEGER NOT NULL DEFAULT 0,
    "groups_removed" INTEGER NOT NULL DEFAULT 0,
    "memberships_set" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "m365_sync_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "m365_remediation" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "action" "M365RemediationAction" NOT NULL,
    "status" "M365RemediationStatus" NOT NULL DEFAULT 'QUEUED',
    "restore_of" UUID,
    "criteria" JSONB NOT NULL DEFAULT '{}',
    "requested_by" TEXT NOT NULL,
    "requested_by_key_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "m365_remediation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "m365_remediation_item" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "remediation_id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "internet_message_id" TEXT NOT NULL,
    "status" "M365RemediationItemStatus" NOT NULL DEFAULT 'QUEUED',
    "graph_message_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "m365_remediation_item_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "m365_connection_tenant_id_key" ON "m365_connection"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "m365_directory_object_account_id_kind_local_id_key" ON "m365_directory_object"("account_id", "kind", "local_id");

-- CreateIndex
CREATE INDEX "m365_sync_run_account_id_created_at_idx" ON "m365_sync_run"("account_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "m365_remediation_account_id_created_at_idx" ON "m365_remediation"("account_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "m365_remediation_item_remediation_id_message_id_recipient_key" ON "m365_remediation_item"("remediation_id", "message_id", "recipient");

-- CreateIndex
CREATE INDEX "m365_remediation_item_message_id_idx" ON "m365_remediation_item"("message_id");

-- AddForeignKey
ALTER TABLE "m365_connection" ADD CONSTRAINT "m365_connection_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "m365_directory_object" ADD CONSTRAINT "m365_directory_object_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "m365_sync_run" ADD CONSTRAINT "m365_sync_run_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "m365_remediation" ADD CONSTRAINT "m365_remediation_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "m365_remediation_item" ADD CONSTRAINT "m365_remediation_item_remediation_id_fkey" FOREIGN KEY ("remediation_id") REFERENCES "m365_remediation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "m365_remediation_item" ADD CONSTRAINT "m365_remediation_item_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;
