-- People who sign in to the admin API and the console (issue 18): local passwords (scrypt), optional TOTP, OpenID
-- Connect links, and their sessions. Roles, partner and account exactly as for API keys.

-- CreateTable
CREATE TABLE "admin_user" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "password_hash" TEXT,
    "role" "ApiKeyRole" NOT NULL,
    "partner_id" UUID,
    "account_id" UUID,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "disabled_at" TIMESTAMPTZ(3),
    "totp_secret" TEXT,
    "totp_enabled_at" TIMESTAMPTZ(3),
    "totp_last_step" BIGINT,
    "oidc_issuer" TEXT,
    "oidc_subject" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "admin_user_pkey" PRIMARY KEY ("id"),
    -- As for API keys: a partner admin belongs to a partner (no account); the other roles to one account.
    CONSTRAINT "admin_user_owner_check" CHECK (
        ("role" = 'PARTNER_ADMIN' AND "partner_id" IS NOT NULL AND "account_id" IS NULL)
        OR ("role" <> 'PARTNER_ADMIN' AND "account_id" IS NOT NULL AND "partner_id" IS NULL)
    ),
    CONSTRAINT "admin_user_email_check" CHECK (length("email") BETWEEN 3 AND 320 AND position('@' in "email") > 1),
    CONSTRAINT "admin_user_oidc_link_check" CHECK (("oidc_issuer" IS NULL) = ("oidc_subject" IS NULL))
);

-- One user per address, whatever its case.
CREATE UNIQUE INDEX "admin_user_email_lower_key" ON "admin_user" (lower("email"));
CREATE UNIQUE INDEX "admin_user_oidc_issuer_oidc_subject_key" ON "admin_user" ("oidc_issuer", "oidc_subject");
CREATE INDEX "admin_user_partner_id_idx" ON "admin_user"("partner_id");
CREATE INDEX "admin_user_account_id_idx" ON "admin_user"("account_id");

ALTER TABLE "admin_user" ADD CONSTRAINT "admin_user_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "admin_user" ADD CONSTRAINT "admin_user_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: the token is stored only as its SHA-256 (a leaked table opens no session).
CREATE TABLE "admin_session" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "token_hash" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "idle_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "client_address" TEXT,
    "user_agent" TEXT,

    CONSTRAINT "admin_session_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "admin_session_token_hash_key" ON "admin_session"("token_hash");
CREATE INDEX "admin_session_user_id_idx" ON "admin_session"("user_id");
CREATE INDEX "admin_session_expires_at_idx" ON "admin_session"("expires_at");

ALTER TABLE "admin_session" ADD CONSTRAINT "admin_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "admin_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- OpenID Connect sign-ins in flight: state → PKCE verifier, nonce and where to go back; used once.
CREATE TABLE "oidc_login_state" (
    "state" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "return_to" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "oidc_login_state_pkey" PRIMARY KEY ("state")
);
