/**
 * Payload of a QueueName.Delivery job: relay one stored message to the listed recipients through their domain's
 * downstream (DESIGN.md §3). Ids only. `quarantineItemId` is set when an admin released the message from
 * quarantine (admin API); the delivery worker should deliver only while that item is still RELEASED.
 */
export interface DeliveryJobData {
  messageId: string;
  recipients: string[];
  quarantineItemId?: string;
}

export const DELIVERY_JOB = 'deliver-message';

/** BullMQ job options for a delivery of a processed message: the id makes enqueueing idempotent. */
export function deliveryJobOptions(messageId: string): { jobId: string } {
  return { jobId: messageId };
}

/**
 * Job id of the delivery of a released quarantine item: one job per item, so releasing twice (or a retry of the
 * API call) never delivers twice. BullMQ refuses custom ids with a single ':', hence `release-<itemId>`.
 */
export function releaseDeliveryJobId(quarantineItemId: string): string {
  return `release-${quarantineItemId}`;
}
