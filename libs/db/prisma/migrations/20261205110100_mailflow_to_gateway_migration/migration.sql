-- Mailflow -> Gateway, the sixth mode-migration plan (issue 13 §2). PostgreSQL 12+ allows ADD VALUE inside a
-- transaction; the new value is not used in this one.
ALTER TYPE "MigrationKind" ADD VALUE 'MAILFLOW_TO_GATEWAY';
