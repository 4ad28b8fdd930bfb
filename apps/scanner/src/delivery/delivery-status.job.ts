/**
 * Payload of the DSN job on QueueName.Delivery: tell the envelope sender which recipients' copies failed for good
 * (RFC 3464). Ids only; the diagnostics are read from the recipients' delivery rows. Kept next to its only
 * producer and consumer (the delivery worker) rather than in libs/queue, whose delivery.job.ts is shared with the
 * admin API.
 */
export interface DeliveryStatusJobData {
  messageId: string;
  recipients: string[];
}

export const DELIVERY_STATUS_JOB = 'delivery-status-notification';

/** One DSN per message and set of failed recipients (BullMQ custom ids may not contain a single ':'). */
export function deliveryStatusJobId(messageId: string, recipientsKey: string): string {
  return `dsn-${messageId}-${recipientsKey}`;
}
