-- Outbound DKIM signing (issue 16): signing keys per tenant domain (RFC 6376, RSA-2048 or Ed25519).
-- A key is generated PENDING_DNS, becomes ACTIVE only once its published TXT record matches, and is RETIRED by
-- the admin. Rotation: a new key (new selector) is activated while the old one stays ACTIVE (and published)
-- until the admin retires it; the newest activated ACTIVE key of a domain signs.

CREATE TYPE "DkimKeyStatus" AS ENUM ('PENDING_DNS', 'ACTIVE', 'RETIRED');

CREATE TYPE "DkimKeyAlgorithm" AS ENUM ('RSA_SHA256', 'ED25519_SHA256');

CREATE TABLE "dkim_key" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "selector" TEXT NOT NULL,
    "algorithm" "DkimKeyAlgorithm" NOT NULL,
    "dns_record" TEXT NOT NULL,
    "encrypted_private_key" TEXT NOT NULL,
    "status" "DkimKeyStatus" NOT NULL DEFAULT 'PENDING_DNS',
    "last_check_at" TIMESTAMPTZ(3),
    "last_check" JSONB,
    "activated_at" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dkim_key_pkey" PRIMARY KEY ("id"),
    -- RFC 6376 3.1: a selector is one or more dot-separated labels (letters, digits, hyphens), at most 63 each.
    CONSTRAINT "dkim_key_selector_check" CHECK ("selector" ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$' AND length("selector") <= 253),
    -- An ACTIVE key was activated; a RETIRED one says when.
    CONSTRAINT "dkim_key_status_dates_check" CHECK (("status" <> 'ACTIVE' OR "activated_at" IS NOT NULL) AND ("status" <> 'RETIRED' OR "retired_at" IS NOT NULL))
);

-- A selector names one key of a domain, for ever (a retired selector is not reused: resolvers may cache it).
CREATE UNIQUE INDEX "dkim_key_domain_id_selector_key" ON "dkim_key"("domain_id", "selector");
CREATE INDEX "dkim_key_account_id_idx" ON "dkim_key"("account_id");

ALTER TABLE "dkim_key" ADD CONSTRAINT "dkim_key_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- The key's domain is of the key's account: a composite reference, so no write can pair one tenant's key with
-- another tenant's domain. Removing a domain removes its keys.
CREATE UNIQUE INDEX "domain_id_account_id_key" ON "domain"("id", "account_id");
ALTER TABLE "dkim_key" ADD CONSTRAINT "dkim_key_domain_id_account_id_fkey" FOREIGN KEY ("domain_id", "account_id") REFERENCES "domain"("id", "account_id") ON DELETE CASCADE ON UPDATE CASCADE;
