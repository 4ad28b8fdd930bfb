-- Gateway / mailflow (issue 5).

-- CreateTable
CREATE TABLE "mailflow_connector" (
    "account_id" UUID NOT NULL,
    "source_ips" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "tls_cert_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailflow_connector_pkey" PRIMARY KEY ("account_id")
);

-- CreateTable
CREATE TABLE "recipient_delivery" (
    "message_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "action" "PolicyAction" NOT NULL,
    "state" "DeliveryState" NOT NULL,
    "subject_tag" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recipient_delivery_pkey" PRIMARY KEY ("message_id","recipient")
);

-- CreateIndex
CREATE INDEX "recipient_delivery_state_updated_at_idx" ON "recipient_delivery"("state", "updated_at");

-- AddForeignKey
ALTER TABLE "mailflow_connector" ADD CONSTRAINT "mailflow_connector_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipient_delivery" ADD CONSTRAINT "recipient_delivery_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;
