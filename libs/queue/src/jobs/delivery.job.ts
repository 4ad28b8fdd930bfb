import { createHash } from 'node:crypto';
import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

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

/**
 * Job id of the delivery of a released quarantine item: one job per item, so releasing twice (or a retry of the
 * API call) never delivers twice. BullMQ refuses custom ids with a single ':', hence `release-<itemId>`.
 */
export function releaseDeliveryJobId(quarantineItemId: string): string {
  return `release-${quarantineItemId}`;
}

/** Deliver a processed message (job id = message id) or a released quarantine item (`release-<itemId>`). */
export const DeliveryJob = defineJob<DeliveryJobData>({
  queue: QueueName.Delivery,
  name: 'deliver-message',
  jobId: (data) => (data.quarantineItemId ? releaseDeliveryJobId(data.quarantineItemId) : data.messageId),
});

/**
 * Payload of the DSN job on QueueName.Delivery: tell the envelope sender which recipients' copies failed for good
 * (RFC 3464). Ids only; the diagnostics are read from the recipients' delivery rows.
 */
export interface DeliveryStatusJobData {
  messageId: string;
  recipients: string[];
}

/** One DSN per message and set of failed recipients: `dsn-<message id>-<hash of the sorted recipients>`. */
export const DeliveryStatusJob = defineJob<DeliveryStatusJobData>({
  queue: QueueName.Delivery,
  name: 'delivery-status-notification',
  jobId: (data) => `dsn-${data.messageId}-${createHash('sha256').update([...data.recipients].sort().join(',')).digest('hex').slice(0, 16)}`,
});
