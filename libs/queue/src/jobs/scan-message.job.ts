import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

/** Payload of a QueueName.Scan job. */
export interface ScanMessageJobData {
  messageId: string;
  accountId: string;
}

/** Scan one stored message. Job id = message id: a message has one scan job at a time (the ingest and the sweeper may both add it). */
export const ScanMessageJob = defineJob<ScanMessageJobData>({ queue: QueueName.Scan, name: 'scan-message', jobId: (data) => data.messageId });
