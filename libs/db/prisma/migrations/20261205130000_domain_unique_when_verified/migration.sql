-- Issue 14, domain squatting: only verification claims a domain name (as in Microsoft 365). An unverified domain
-- may be added by several accounts; one account may hold it verified, the first to verify; an account holds a
-- name once. The global unique index let a tenant block the real owner by adding its domain unverified, and its
-- 409 told everyone which domains other customers had added.

DROP INDEX "domain_name_key";

-- One row per name and account (a name twice in one account would be scanned twice).
CREATE UNIQUE INDEX "domain_account_id_name_key" ON "domain"("account_id", "name");

-- At most one verified row per name: the owner the gateway, journal and scans look up by name. Verifying a name
-- that another account already holds verified fails on this index, so the first to verify wins under concurrency.
CREATE UNIQUE INDEX "domain_name_verified_key" ON "domain"("name") WHERE "verification_status" = 'VERIFIED';
