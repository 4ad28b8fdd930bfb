-- Dashboard statistics from hourly aggregates (issue 13 §4), kept up to date by the verdict write itself (a CTE of
-- the same statement), so a month of a busy tenant is a few thousand rows, never its messages.
-- `shard` (0–7, chosen per statement) spreads concurrent verdict writes of one tenant over several rows, so they do
-- not queue on one row lock; readers sum over it.

-- CreateTable: one row per (hour, direction, decided action, applied action, failed check) and shard; counts verdicts
-- (one per recipient). applied_action 'NONE' = nothing applied (monitor-only); failed_check '' = none failed.
CREATE TABLE "stats_hourly" (
    "account_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "direction" "MessageDirection" NOT NULL,
    "decided_action" "PolicyAction" NOT NULL,
    "applied_action" TEXT NOT NULL,
    "failed_check" TEXT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "stats_hourly_pkey" PRIMARY KEY ("account_id", "hour", "direction", "decided_action", "applied_action", "failed_check", "shard")
);

-- CreateTable: top lists per hour. dimension 'sender' (envelope sender of mail that was not simply delivered: a failed
-- check or an action other than DELIVER), 'recipient' (recipients targeted by such mail), 'rule' (data-control rule
-- ids that matched).
CREATE TABLE "stats_top_hourly" (
    "account_id" UUID NOT NULL,
    "dimension" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "value" TEXT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "stats_top_hourly_pkey" PRIMARY KEY ("account_id", "dimension", "hour", "value", "shard")
);

-- AddForeignKey
ALTER TABLE "stats_hourly" ADD CONSTRAINT "stats_hourly_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "stats_top_hourly" ADD CONSTRAINT "stats_top_hourly_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill from the verdicts already stored (hour of the verdict), so the figures start complete.
INSERT INTO "stats_hourly" ("account_id", "hour", "direction", "decided_action", "applied_action", "failed_check", "shard", "count")
SELECT m."account_id", date_trunc('hour', v."created_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', m."direction", v."decided_action",
  COALESCE(v."applied_action"::text, 'NONE'), COALESCE(v."failed_check", ''), 0, count(*)
FROM "verdict" v JOIN "message" m ON m."id" = v."message_id"
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO "stats_top_hourly" ("account_id", "dimension", "hour", "value", "shard", "count")
SELECT t."account_id", t."dimension", t."hour", t."value", 0, count(*)
FROM (
  -- a sender once per message, a recipient once per verdict, a rule once per message
  SELECT DISTINCT m."account_id", date_trunc('hour', v."created_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS "hour", 'sender' AS "dimension",
    COALESCE(NULLIF(m."envelope_from", ''), '<>') AS "value", m."id"
  FROM "verdict" v JOIN "message" m ON m."id" = v."message_id"
  WHERE v."decided_action" <> 'DELIVER' OR v."failed_check" IS NOT NULL
  UNION ALL
  SELECT m."account_id", date_trunc('hour', v."created_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 'recipient', v."recipient", m."id"
  FROM "verdict" v JOIN "message" m ON m."id" = v."message_id"
  WHERE v."decided_action" <> 'DELIVER' OR v."failed_check" IS NOT NULL
  UNION ALL
  SELECT DISTINCT m."account_id", date_trunc('hour', v."created_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 'rule', r->>'source', m."id"
  FROM "verdict" v JOIN "message" m ON m."id" = v."message_id"
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v."reasons") = 'array' THEN v."reasons" ELSE '[]'::jsonb END) r
  WHERE r->>'kind' = 'data-control' AND r->>'source' IS NOT NULL
) t
GROUP BY 1, 2, 3, 4;
