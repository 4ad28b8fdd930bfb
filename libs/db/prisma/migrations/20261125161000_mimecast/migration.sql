-- CreateEnum
CREATE TYPE "MimecastApiVersion" AS ENUM ('V1', 'V2');

-- CreateEnum
CREATE TYPE "MimecastLogType" AS ENUM ('ATTACHMENT', 'IMPERSONATION', 'URL');

-- CreateEnum
CREATE TYPE "MimecastPollOutcome" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED');

-- CreateEnum
CREATE TYPE "ThirdPartySource" AS ENUM ('MIMECAST');

-- CreateTable
CREATE TABLE "mimecast_connection" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "api_version" "MimecastApiVersion" NOT NULL,
    "base_url" TEXT NOT NULL,
    "encrypted_credentials" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "poll_interval_seconds" INTEGER NOT NULL DEFAULT 300,
    "lease_until" TIMESTAMPTZ(3),
    "last_polled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mimecast_connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mimecast_poll_cursor" (
    "connection_id" UUID NOT NULL,
    "log_type" "MimecastLogType" NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "window_end" TIMESTAMPTZ(3),
    "page_token" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mimecast_poll_cursor_pkey" PRIMARY KEY ("connection_id","log_type")
);

-- CreateTable
CREATE TABLE "mimecast_poll_run" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connection_id" UUID NOT NULL,
    "outcome" "MimecastPollOutcome" NOT NULL DEFAULT 'RUNNING',
    "pages" INTEGER NOT NULL DEFAULT 0,
    "received" INTEGER NOT NULL DEFAULT 0,
    "stored" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "malformed" INTEGER NOT NULL DEFAULT 0,
    "clean" INTEGER NOT NULL DEFAULT 0,
    "unmapped" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "duration_ms" INTEGER,

    CONSTRAINT "mimecast_poll_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "third_party_alert" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "source" "ThirdPartySource" NOT NULL,
    "log_type" TEXT NOT NULL,
    "alert_type" TEXT NOT NULL,
    "mitre_id" TEXT,
    "mitre_name" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "sender" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "subject" TEXT,
    "url" TEXT,
    "file_name" TEXT,
    "message_id_header" TEXT,
    "raw" JSONB NOT NULL,
    "dedup_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "third_party_alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "malformed_alert" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connection_id" UUID NOT NULL,
    "source" "ThirdPartySource" NOT NULL,
    "log_type" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "raw" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "malformed_alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "mimecast_connection_account_id_key" ON "mimecast_connection"("account_id");

-- CreateIndex
CREATE INDEX "mimecast_poll_run_connection_id_started_at_idx" ON "mimecast_poll_run"("connection_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "third_party_alert_account_id_occurred_at_id_idx" ON "third_party_alert"("account_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "third_party_alert_account_id_mitre_id_idx" ON "third_party_alert"("account_id", "mitre_id");

-- CreateIndex
CREATE UNIQUE INDEX "third_party_alert_account_id_dedup_hash_key" ON "third_party_alert"("account_id", "dedup_hash");

-- CreateIndex
CREATE INDEX "malformed_alert_connection_id_received_at_idx" ON "malformed_alert"("connection_id", "received_at" DESC);

-- AddForeignKey
ALTER TABLE "mimecast_connection" ADD CONSTRAINT "mimecast_connection_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mimecast_poll_cursor" ADD CONSTRAINT "mimecast_poll_cursor_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "mimecast_connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mimecast_poll_run" ADD CONSTRAINT "mimecast_poll_run_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "mimecast_connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "third_party_alert" ADD CONSTRAINT "third_party_alert_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "malformed_alert" ADD CONSTRAINT "malformed_alert_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "mimecast_connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
