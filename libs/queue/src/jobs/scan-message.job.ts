/** Payload of a QueueName.Scan job. Enqueue with `jobId: messageId` so a message has one scan job at a time. */
export interface ScanMessageJobData {
  messageId: string;
  accountId: string;
}

export const SCAN_MESSAGE_JOB = 'scan-message';

/** BullMQ job options for a scan: the id makes enqueueing idempotent (the ingest and the sweeper may both try). */
export function scanJobOptions(messageId: string): { jobId: string } {
  return { jobId: messageId };
}
