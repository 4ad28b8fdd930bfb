-- Micro-benchmark of the scan path's SQL alone (tools/bench/README.md, "Insert-only message"): per message an insert of
-- message + 20 KB raw bytes, the attempt update and the verdict's claim, each its own transaction, the scans 'lag'
-- messages behind the inserts. In a database migrated with the repo's migrator (is_new: message_scan exists):
--   psql -d <db> -f tools/bench/micro/message-scan-path.sql -c 'CALL micro_path(1000, true, 20)'
-- then read pg_stat_user_tables (n_tup_upd, n_tup_hot_upd) and the index sizes of message.
\set ON_ERROR_STOP 1
INSERT INTO account (id, name, journal_token) VALUES ('00000000-0000-4000-8000-000000000001', 'micro', 'micro-token') ON CONFLICT DO NOTHING;
CREATE OR REPLACE PROCEDURE micro_path(n int, is_new boolean, lag int) LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[] := '{}';
  mid uuid;
  body bytea;
  i int;
BEGIN
  FOR i IN 1..n + lag LOOP
    IF i <= n THEN
      body := convert_to((SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 640) g), 'UTF8');
      WITH raw AS (INSERT INTO raw_message (content, size, sha256) VALUES (body, 20480, md5(i::text)) RETURNING id)
      INSERT INTO message (account_id, source, direction, envelope_from, envelope_to, header_from, subject, message_id_header, size, client_ip, helo, metadata, raw_message_id)
      SELECT '00000000-0000-4000-8000-000000000001', 'JOURNAL', 'INBOUND', 'sender' || (i % 97) || '@partner.example', ARRAY['user' || (i % 13) || '@customer.example', 'other@customer.example'],
        'sender' || (i % 97) || '@partner.example', 'Quarterly report number ' || i || ' for the team', '<' || i || '.' || random() || '@partner.example>', 20480, '203.0.113.7', 'mx.partner.example',
        '{"journal": {"format": "google", "recipients": [{"address": "user@customer.example", "kind": "to"}]}}'::jsonb, raw.id
      FROM raw RETURNING id INTO mid;
      ids := ids || mid;
      COMMIT;
    END IF;
    IF i > lag THEN
      mid := ids[i - lag];
      IF is_new THEN
        UPDATE message_scan SET attempts = attempts + 1 WHERE message_id = mid;
        COMMIT;
        WITH s AS (DELETE FROM message_scan WHERE message_id = mid RETURNING attempts)
        UPDATE message SET scan_status = 'SCANNED', scanned_at = now(), scan_attempts = COALESCE((SELECT attempts FROM s), scan_attempts) WHERE id = mid AND scan_status = 'PENDING';
        COMMIT;
      ELSE
        UPDATE message SET scan_attempts = scan_attempts + 1 WHERE id = mid AND scan_status = 'PENDING';
        COMMIT;
        UPDATE message SET scan_status = 'SCANNED', scanned_at = now() WHERE id = mid AND scan_status = 'PENDING';
        COMMIT;
      END IF;
    END IF;
  END LOOP;
END;
$$;
