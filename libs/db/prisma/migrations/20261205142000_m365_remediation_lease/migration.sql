-- One worker at a time per remediation: a lease its worker renews while it works (issue 15).

-- AlterTable
ALTER TABLE "m365_remediation" ADD COLUMN "lease_owner" TEXT, ADD COLUMN "lease_until" TIMESTAMPTZ(3);
