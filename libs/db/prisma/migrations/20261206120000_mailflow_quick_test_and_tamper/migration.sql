-- Microsoft 365 mailflow (issue 16): the quick test through Exchange Online with its hops, and the tamper check's
-- alerts and per-domain health.

-- CreateEnum
CREATE TYPE "MailflowQuickTestStatus" AS ENUM ('RUNNING', 'PASSED', 'FAILED');

-- CreateEnum
CREATE TYPE "MailflowHealth" AS ENUM ('HEALTHY', 'DEGRADED');

-- CreateTable
CREATE TABLE "m365_mailflow_settings" (
    "account_id" UUID NOT NULL,
    "exchange_smtp_host" TEXT,
    "exchange_smtp_port" INTEGER NOT NULL DEFAULT 25,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "m365_mailflow_settings_pkey" PRIMARY KEY ("account_id"),
    CONSTRAINT "m365_mailflow_settings_port_check" CHECK ("exchange_smtp_port" BETWEEN 1 AND 65535)
);

-- CreateTable
CREATE TABLE "mailflow_quick_test" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "internet_message_id" TEXT NOT NULL,
    "exchange_smtp" TEXT NOT NULL,
    "status" "MailflowQuickTestStatus" NOT NULL DEFAULT 'RUNNING',
    "failed_hop" TEXT,
    "hops" JSONB NOT NULL DEFAULT '[]',
    "requested_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "mailflow_quick_test_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "mailflow_quick_test_account_id_created_at_idx" ON "mailflow_quick_test"("account_id", "created_at" DESC);

-- CreateTable
CREATE TABLE "domain_mailflow_status" (
    "domain_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "status" "MailflowHealth" NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "last_checked_at" TIMESTAMPTZ(3) NOT NULL,
    "differences" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "domain_mailflow_status_pkey" PRIMARY KEY ("domain_id")
);

-- CreateIndex
CREATE INDEX "domain_mailflow_status_account_id_idx" ON "domain_mailflow_status"("account_id");

-- CreateTable
CREATE TABLE "mailflow_alert" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "differences" JSONB NOT NULL DEFAULT '[]',
    "domains" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailflow_alert_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "mailflow_alert_kind_check" CHECK ("kind" IN ('TAMPER_DETECTED', 'TAMPER_CLEARED'))
);

-- CreateIndex
CREATE INDEX "mailflow_alert_account_id_created_at_idx" ON "mailflow_alert"("account_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "m365_mailflow_settings" ADD CONSTRAINT "m365_mailflow_settings_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "mailflow_quick_test" ADD CONSTRAINT "mailflow_quick_test_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "mailflow_quick_test" ADD CONSTRAINT "mailflow_quick_test_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "domain_mailflow_status" ADD CONSTRAINT "domain_mailflow_status_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "domain_mailflow_status" ADD CONSTRAINT "domain_mailflow_status_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "mailflow_alert" ADD CONSTRAINT "mailflow_alert_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
