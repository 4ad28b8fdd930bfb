-- Issue 20, performance: DeliveryRepository.updateDeliveries in one round trip instead of four (BEGIN, the lock of
-- the message row, the statement, COMMIT). The lock must come first and the statement after it must see every copy
-- committed meanwhile by another delivery or release of the same message (its summed-up delivery_state); in READ
-- COMMITTED a VOLATILE function takes a fresh snapshot for each statement it runs, so the two statements keep their
-- order and meaning inside one function call, one transaction. The statement is the one the repository sent before.
--
-- p_received_from / p_received_to bound "received_at" to the days around the message id's time (partition pruning;
-- -infinity / infinity for an id without a time). p_event_type: the recipient event to record (null: none), with its
-- reply and detail (the attempt number is added from the updated row). p_precedence: the states from most to least
-- in need of attention (the summary takes the first one any copy has).
CREATE FUNCTION "mw_update_deliveries"(
    p_message_id UUID,
    p_received_from TIMESTAMPTZ,
    p_received_to TIMESTAMPTZ,
    p_recipients TEXT[],
    p_state "DeliveryState",
    p_set_error BOOLEAN,
    p_last_error TEXT,
    p_attempted BOOLEAN,
    p_event_type "RecipientEventType",
    p_reply TEXT,
    p_detail JSONB,
    p_precedence "DeliveryState"[]
) RETURNS "DeliveryState" AS $$
DECLARE
    "v_state" "DeliveryState";
BEGIN
    PERFORM 1 FROM "message"
    WHERE "id" = p_message_id AND "received_at" >= p_received_from AND "received_at" < p_received_to
    FOR UPDATE;

    WITH "updated" AS (
        UPDATE "recipient_delivery" SET
            "state" = p_state,
            "last_error" = CASE WHEN p_set_error THEN p_last_error ELSE "last_error" END,
            "attempts" = "attempts" + CASE WHEN p_attempted THEN 1 ELSE 0 END,
            "last_attempt_at" = CASE WHEN p_attempted THEN now() ELSE "last_attempt_at" END,
            "delivered_at" = CASE WHEN p_state = 'DELIVERED' THEN now() ELSE "delivered_at" END,
            "claimed_until" = NULL,
            "updated_at" = now()
        WHERE "message_id" = p_message_id AND "recipient" = ANY(p_recipients)
        RETURNING "recipient", "state", "attempts"),
    "delivery_event" AS (
        INSERT INTO "recipient_event" ("message_id", "recipient", "type", "reply", "detail")
        SELECT p_message_id, u."recipient", p_event_type, p_reply, p_detail || jsonb_build_object('attempt', u."attempts")
        FROM "updated" u
        WHERE p_event_type IS NOT NULL),
    "copies" AS (
        SELECT COALESCE(u."state", d."state") AS "state"
        FROM "recipient_delivery" d LEFT JOIN "updated" u USING ("recipient")
        WHERE d."message_id" = p_message_id),
    "summary" AS (
        SELECT COALESCE((SELECT p."state" FROM unnest(p_precedence) WITH ORDINALITY AS p("state", "rank")
            WHERE p."state" IN (SELECT "state" FROM "copies") ORDER BY p."rank" LIMIT 1), 'NOT_APPLICABLE') AS "state")
    UPDATE "message" SET "delivery_state" = "summary"."state" FROM "summary"
    WHERE "message"."id" = p_message_id AND "message"."received_at" >= p_received_from AND "message"."received_at" < p_received_to
    RETURNING "message"."delivery_state" INTO "v_state";

    RETURN COALESCE("v_state", 'NOT_APPLICABLE');
END;
$$ LANGUAGE plpgsql VOLATILE;
