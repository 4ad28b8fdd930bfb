-- Issue 20, performance: the delivery outcome's two statements (the message row's lock, then the copies' update with
-- their events and the message's summary) on generic plans. PL/pgSQL keeps a prepared plan per statement and session,
-- but with plan_cache_mode auto PostgreSQL planned them afresh at every call (custom plans: the generic one lists every
-- partition of "message" and "recipient_event", and its estimate looks costlier): pg_stat_statements of a gateway run
-- gave 0.92 ms of planning per call against 0.44 ms of execution. A generic plan prunes the partitions when it starts
-- (the received_at bounds are parameters). Measured per call, PostgreSQL backend CPU, same connection, interleaved
-- (tools/bench/micro/update-deliveries-plan.mjs): 851 → 371 µs with the bench's 8 partitions, 990 → 757 µs with 40
-- (a month of retention). The function and what it does are unchanged.
ALTER FUNCTION "mw_update_deliveries"(UUID, TIMESTAMPTZ, TIMESTAMPTZ, TEXT[], "DeliveryState", BOOLEAN, TEXT, BOOLEAN, "RecipientEventType", TEXT, JSONB, "DeliveryState"[])
    SET plan_cache_mode = force_generic_plan;
