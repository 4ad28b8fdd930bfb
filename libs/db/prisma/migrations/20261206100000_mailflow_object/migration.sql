-- Exchange Online objects Mailwarden created for an account's mailflow (issue 16): what tamper detection compares
-- Exchange against, and exactly what leaving Mailflow removes.

-- CreateTable
CREATE TABLE "mailflow_object" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "exchange_guid" TEXT,
    "parameters" JSONB NOT NULL,
    "migration_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailflow_object_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "mailflow_object_kind_check" CHECK ("kind" IN ('INBOUND_CONNECTOR', 'OUTBOUND_CONNECTOR', 'TRANSPORT_RULE', 'ARC_TRUSTED_SEALER'))
);

-- CreateIndex
CREATE UNIQUE INDEX "mailflow_object_account_id_kind_name_key" ON "mailflow_object"("account_id", "kind", "name");

-- AddForeignKey
ALTER TABLE "mailflow_object" ADD CONSTRAINT "mailflow_object_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
