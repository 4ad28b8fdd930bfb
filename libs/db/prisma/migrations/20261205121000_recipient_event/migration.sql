-- Per-recipient event history (issue 13 §4): what happened to each recipient's copy, in order. Written where it
-- happens, in the statement or transaction that already records it: the scan's verdict write (SCANNED,
-- QUARANTINED), each delivery attempt and its outcome with the downstream's reply (DELIVERED, DEFERRED, FAILED),
-- the quarantine actions (RELEASED, DELETED). "Accepted" is the message row itself (received_at).
-- CreateEnum
CREATE TYPE "RecipientEventType" AS ENUM ('SCANNED', 'QUARANTINED', 'DELIVERED', 'DEFERRED', 'FAILED', 'RELEASED', 'DELETED');

-- CreateTable
CREATE TABLE "recipient_event" (
    "id" BIGSERIAL NOT NULL,
    "message_id" UUID NOT NULL,
    "recipient" TEXT NOT NULL,
    "type" "RecipientEventType" NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" "PolicyAction",
    "reply" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "recipient_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "recipient_event_message_id_id_idx" ON "recipient_event"("message_id", "id");

-- AddForeignKey
ALTER TABLE "recipient_event" ADD CONSTRAINT "recipient_event_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;
