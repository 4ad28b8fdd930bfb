-- CreateEnum
CREATE TYPE "DomainMode" AS ENUM ('JOURNAL', 'GATEWAY', 'MAILFLOW');

-- CreateEnum
CREATE TYPE "VerificationStatus" AS ENUM ('PENDING', 'VERIFIED', 'FAILED');

-- CreateEnum
CREATE TYPE "MessageSource" AS ENUM ('JOURNAL', 'GATEWAY', 'MAILFLOW');

-- CreateEnum
CREATE TYPE "MessageDirection" AS ENUM ('INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL');

-- CreateEnum
CREATE TYPE "ScanStatus" AS ENUM ('PENDING', 'SCANNED', 'SKIPPED', 'UNPARSEABLE');

-- CreateEnum
CREATE TYPE "DeliveryState" AS ENUM ('NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED');

-- CreateEnum
CREATE TYPE "PolicyAction" AS ENUM ('DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT');

-- CreateEnum
CREATE TYPE "PolicyKind" AS ENUM ('EMAIL_SECURITY', 'DATA_CONTROL');

-- CreateEnum
CREATE TYPE "PolicyScope" AS ENUM ('PARTNER', 'ACCOUNT', 'DOMAIN', 'GROUP', 'USER');

-- CreateEnum
CREATE TYPE "QuarantineStatus" AS ENUM ('HELD', 'RELEASED', 'DELETED');

-- CreateEnum
CREATE TYPE "MigrationKind" AS ENUM ('ADVANCED_TO_MONITOR_ONLY', 'MONITOR_ONLY_TO_ADVANCED', 'GATEWAY_TO_MAILFLOW');

-- CreateEnum
CREATE TYPE "MigrationStatus" AS ENUM ('PLANNED', 'RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "MigrationStepKind" AS ENUM ('AUTOMATED', 'MANUAL');

-- CreateEnum
CREATE TYPE "MigrationStepStatus" AS ENUM ('PENDING', 'RUNNING', 'WAITING_FOR_ADMIN', 'DONE', 'FAILED', 'SKIPPED');

-- CreateEnum
CREATE TYPE "ApiKeyRole" AS ENUM ('PARTNER_ADMIN', 'TENANT_ADMIN', 'READ_ONLY');

-- CreateTable
CREATE TABLE "partner" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "partner_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "partner_id" UUID,
    "name" TEXT NOT NULL,
    "monitor_only" BOOLEAN NOT NULL DEFAULT true,
    "journal_token" TEXT NOT NULL,
    "journal_source_ips" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "journal_require_tls" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "mode" "DomainMode" NOT NULL DEFAULT 'JOURNAL',
    "verification_status" "VerificationStatus" NOT NULL DEFAULT 'PENDING',
    "verification_token" TEXT NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "downstream_host" TEXT,
    "downstream_port" INTEGER NOT NULL DEFAULT 25,
    "downstream_require_tls" BOOLEAN NOT NULL DEFAULT true,
    "downstream_verify_cert" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domain_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mailbox_user" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailbox_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mailbox_group" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailbox_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "group_membership" (
    "group_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,

    CONSTRAINT "group_membership_pkey" PRIMARY KEY ("group_id","user_id")
);

-- CreateTable
CREATE TABLE "policy" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "PolicyKind" NOT NULL,
    "scope" "PolicyScope" NOT NULL,
    "partner_id" UUID,
    "account_id" UUID,
    "scope_id" UUID NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "locks" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "raw_message" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "content" BYTEA NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "raw_message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "source" "MessageSource" NOT NULL,
    "direction" "MessageDirection" NOT NULL,
    "envelope_from" TEXT NOT NULL,
    "envelope_to" TEXT[],
    "header_from" TEXT,
    "subject" TEXT,
    "message_id_header" TEXT,
    "size" INTEGER NOT NULL,
    "client_ip" TEXT,
    "helo" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "raw_message_id" UUID NOT NULL,
    "dedup_key" TEXT,
    "scan_status" "ScanStatus" NOT NULL DEFAULT 'PENDING',
    "scanned_at" TIMESTAMPTZ(3),
    "delivery_state" "DeliveryState" NOT NULL DEFAULT 'NOT_APPLICABLE',
    "metadata" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verdict" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "message_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "checks" JSONB NOT NULL DEFAULT '[]',
    "failed_check" TEXT,
    "decided_action" "PolicyAction" NOT NULL,
    "applied_action" "PolicyAction",
    "enforced" BOOLEAN NOT NULL,
    "reasons" JSONB NOT NULL DEFAULT '[]',
    "skipped_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verdict_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quarantine_item" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "verdict_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "status" "QuarantineStatus" NOT NULL DEFAULT 'HELD',
    "enforced" BOOLEAN NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "released_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "quarantine_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mode_migration" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "kind" "MigrationKind" NOT NULL,
    "status" "MigrationStatus" NOT NULL DEFAULT 'PLANNED',
    "params" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "mode_migration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mode_migration_step" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "migration_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "kind" "MigrationStepKind" NOT NULL,
    "status" "MigrationStepStatus" NOT NULL DEFAULT 'PENDING',
    "instruction" TEXT,
    "result" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "mode_migration_step_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_key" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ApiKeyRole" NOT NULL,
    "partner_id" UUID,
    "account_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "partner_id" UUID,
    "account_id" UUID,
    "actor_key_id" UUID,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "object_type" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_event" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "account_journal_token_key" ON "account"("journal_token");

-- CreateIndex
CREATE INDEX "account_partner_id_idx" ON "account"("partner_id");

-- CreateIndex
CREATE UNIQUE INDEX "domain_name_key" ON "domain"("name");

-- CreateIndex
CREATE INDEX "domain_account_id_idx" ON "domain"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "mailbox_user_account_id_email_key" ON "mailbox_user"("account_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "mailbox_group_account_id_name_key" ON "mailbox_group"("account_id", "name");

-- CreateIndex
CREATE INDEX "group_membership_user_id_idx" ON "group_membership"("user_id");

-- CreateIndex
CREATE INDEX "policy_account_id_idx" ON "policy"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "policy_kind_scope_scope_id_key" ON "policy"("kind", "scope", "scope_id");

-- CreateIndex
CREATE INDEX "message_account_id_received_at_id_idx" ON "message"("account_id", "received_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "message_account_id_message_id_header_idx" ON "message"("account_id", "message_id_header");

-- CreateIndex
CREATE INDEX "message_account_id_envelope_from_idx" ON "message"("account_id", "envelope_from");

-- CreateIndex
CREATE INDEX "message_account_id_header_from_idx" ON "message"("account_id", "header_from");

-- CreateIndex
CREATE INDEX "message_envelope_to_idx" ON "message" USING GIN ("envelope_to" array_ops);

-- CreateIndex
CREATE INDEX "message_scan_status_received_at_idx" ON "message"("scan_status", "received_at");

-- CreateIndex
CREATE UNIQUE INDEX "message_account_id_dedup_key_key" ON "message"("account_id", "dedup_key");

-- CreateIndex
CREATE INDEX "verdict_decided_action_created_at_idx" ON "verdict"("decided_action", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "verdict_message_id_recipient_key" ON "verdict"("message_id", "recipient");

-- CreateIndex
CREATE INDEX "quarantine_item_account_id_status_created_at_idx" ON "quarantine_item"("account_id", "status", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "quarantine_item_verdict_id_key" ON "quarantine_item"("verdict_id");

-- CreateIndex
CREATE INDEX "mode_migration_account_id_created_at_idx" ON "mode_migration"("account_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "mode_migration_step_migration_id_position_key" ON "mode_migration_step"("migration_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "mode_migration_step_migration_id_key_key" ON "mode_migration_step"("migration_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_prefix_key" ON "api_key"("prefix");

-- CreateIndex
CREATE INDEX "api_key_account_id_idx" ON "api_key"("account_id");

-- CreateIndex
CREATE INDEX "api_key_partner_id_idx" ON "api_key"("partner_id");

-- CreateIndex
CREATE INDEX "audit_event_account_id_at_idx" ON "audit_event"("account_id", "at" DESC);

-- CreateIndex
CREATE INDEX "audit_event_object_type_object_id_idx" ON "audit_event"("object_type", "object_id");

-- CreateIndex
CREATE INDEX "outbox_event_topic_published_at_id_idx" ON "outbox_event"("topic", "published_at", "id");

-- AddForeignKey
ALTER TABLE "account" ADD CONSTRAINT "account_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domain" ADD CONSTRAINT "domain_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mailbox_user" ADD CONSTRAINT "mailbox_user_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mailbox_group" ADD CONSTRAINT "mailbox_group_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "group_membership" ADD CONSTRAINT "group_membership_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "mailbox_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "group_membership" ADD CONSTRAINT "group_membership_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "mailbox_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy" ADD CONSTRAINT "policy_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy" ADD CONSTRAINT "policy_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_raw_message_id_fkey" FOREIGN KEY ("raw_message_id") REFERENCES "raw_message"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "verdict" ADD CONSTRAINT "verdict_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantine_item" ADD CONSTRAINT "quarantine_item_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantine_item" ADD CONSTRAINT "quarantine_item_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantine_item" ADD CONSTRAINT "quarantine_item_verdict_id_fkey" FOREIGN KEY ("verdict_id") REFERENCES "verdict"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mode_migration" ADD CONSTRAINT "mode_migration_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mode_migration_step" ADD CONSTRAINT "mode_migration_step_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "mode_migration"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_key" ADD CONSTRAINT "api_key_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_key" ADD CONSTRAINT "api_key_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Below: rules Prisma's schema language cannot express, kept in the database itself.

-- A domain name is stored lower-case, so the unique index covers every spelling.
ALTER TABLE "domain" ADD CONSTRAINT "domain_name_lower_case" CHECK ("name" = lower("name"));

-- One running (not finished) mode migration per account at a time.
CREATE UNIQUE INDEX "mode_migration_one_active_per_account" ON "mode_migration"("account_id") WHERE "status" IN ('PLANNED', 'RUNNING', 'WAITING');

-- The audit log is append-only.
CREATE FUNCTION "audit_event_append_only"() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "audit_event_no_update_or_delete" BEFORE UPDATE OR DELETE ON "audit_event"
    FOR EACH ROW EXECUTE FUNCTION "audit_event_append_only"();
