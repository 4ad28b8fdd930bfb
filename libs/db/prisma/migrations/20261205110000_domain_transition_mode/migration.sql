-- Mode migrations that never bounce mail (issue 13 §2).

-- The other mode whose path also accepts the domain's mail while a migration moves it (the overlap window):
-- set and cleared by the migration's steps. `mode` stays the one mode that decides and enforces; the triggers of
-- 20261125160000_domain_mode_rules keep applying to it alone.
ALTER TABLE "domain" ADD COLUMN "transition_mode" "DomainMode";
