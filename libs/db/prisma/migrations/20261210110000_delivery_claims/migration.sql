-- Issue 20, performance: the gateway delivers a copy in the process that stored it, right after the commit, with the
-- delivery queue and the sweeper as the fallback. Two runs of one message (the in-process delivery and a queued job,
-- a job BullMQ hands out again after a stall, the sweeper's job) must never relay a copy twice, so a run first
-- claims the copies it will relay: "claimed_until" is set (a lease) in the statement that checks the copy is still
-- QUEUED or DEFERRED and unclaimed, and cleared when its state is recorded. A run that dies leaves the lease to
-- expire; the sweeper then queues the copy again. A nullable column without a default: no table rewrite.
ALTER TABLE "recipient_delivery" ADD COLUMN "claimed_until" TIMESTAMPTZ(3);
