-- DESIGN.md §2: while an account is monitor-only, its domains may only be in JOURNAL mode. Enforced here as well
-- as in libs/accounts, so no code path (admin API, migration runner, a manual psql session) can break it.
-- Both triggers raise SQLSTATE 23514 (check_violation) with a named constraint, a readable message and a hint.
--
-- Concurrency: the domain trigger takes FOR SHARE on the account row and the account trigger runs on an UPDATE
-- that already holds that row locked, so a concurrent "domain → GATEWAY" and "account → monitor-only" serialize
-- on the account row; the second one re-reads under READ COMMITTED and sees the first one's commit. (Under
-- SERIALIZABLE the pair is a write skew that SSI aborts. REPEATABLE READ would not catch it: change modes under
-- READ COMMITTED, PostgreSQL's and Prisma's default, or SERIALIZABLE.)

-- Refuse to install the rule over data that already breaks it, naming the rows, rather than leave them hidden.
DO $$
DECLARE
    violations text;
BEGIN
    SELECT string_agg(format('%s (%s, account %s)', d."name", d."mode", d."account_id"), ', ' ORDER BY d."name") INTO violations
        FROM "domain" d JOIN "account" a ON a."id" = d."account_id"
        WHERE a."monitor_only" AND d."mode" <> 'JOURNAL';
    IF violations IS NOT NULL THEN
        RAISE EXCEPTION 'monitor-only accounts have GATEWAY or MAILFLOW domains: %', violations
            USING ERRCODE = 'check_violation',
                  HINT = 'Set those domains to JOURNAL or turn monitor-only off for their accounts, then migrate again.';
    END IF;
END;
$$;

CREATE FUNCTION "domain_mode_requires_enforced_account"() RETURNS trigger AS $$
DECLARE
    account_monitor_only boolean;
BEGIN
    SELECT "monitor_only" INTO account_monitor_only FROM "account" WHERE "id" = NEW."account_id" FOR SHARE;
    IF account_monitor_only THEN
        RAISE EXCEPTION 'domain "%" cannot be set to % mode: account % is monitor-only, which allows JOURNAL mode only',
                NEW."name", NEW."mode", NEW."account_id"
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'domain_mode_requires_enforced_account',
                  HINT = 'Turn monitor-only off for the account first, then change the domain mode.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "domain_mode_requires_enforced_account"
    BEFORE INSERT OR UPDATE OF "mode", "account_id" ON "domain"
    FOR EACH ROW
    WHEN (NEW."mode" <> 'JOURNAL')
    EXECUTE FUNCTION "domain_mode_requires_enforced_account"();

CREATE FUNCTION "account_monitor_only_requires_journal_domains"() RETURNS trigger AS $$
DECLARE
    enforcing_domains text;
BEGIN
    SELECT string_agg(format('%s (%s)', "name", "mode"), ', ' ORDER BY "name") INTO enforcing_domains
        FROM "domain"
        WHERE "account_id" = NEW."id" AND "mode" <> 'JOURNAL';
    IF enforcing_domains IS NOT NULL THEN
        RAISE EXCEPTION 'account % cannot be switched to monitor-only while it has GATEWAY or MAILFLOW domains: %',
                NEW."id", enforcing_domains
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'account_monitor_only_requires_journal_domains',
                  HINT = 'Move every domain back to JOURNAL mode first, then turn monitor-only on.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "account_monitor_only_requires_journal_domains"
    BEFORE INSERT OR UPDATE OF "monitor_only" ON "account"
    FOR EACH ROW
    WHEN (NEW."monitor_only")
    EXECUTE FUNCTION "account_monitor_only_requires_journal_domains"();
