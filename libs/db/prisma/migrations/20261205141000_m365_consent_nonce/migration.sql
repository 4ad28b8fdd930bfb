-- Admin-consent links are good for one consent: the nonce of each used state is kept (issue 15).

-- CreateTable
CREATE TABLE "m365_consent_nonce" (
    "nonce" TEXT NOT NULL,
    "account_id" UUID NOT NULL,
    "used_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "m365_consent_nonce_pkey" PRIMARY KEY ("nonce")
);

-- AddForeignKey
ALTER TABLE "m365_consent_nonce" ADD CONSTRAINT "m365_consent_nonce_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
