-- A message whose scan keeps failing (an error every time, or a worker that dies during it: out of memory, kill -9)
-- ends as FAILED with the reason, instead of being re-queued by the sweeper for ever (issue 12).
-- PostgreSQL 12+ runs ADD VALUE inside a transaction; the value is only used by later transactions.
ALTER TYPE "ScanStatus" ADD VALUE IF NOT EXISTS 'FAILED';

-- AlterTable: scan attempts started (counted before the scan, so a crash counts too) and the last error / the reason.
ALTER TABLE "message" ADD COLUMN "scan_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "scan_error" TEXT;
