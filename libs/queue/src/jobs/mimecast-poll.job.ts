import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

/** Payload of the per-account Mimecast poll (queue QueueName.MimecastPoll). Ids only. */
export interface MimecastPollJobData {
  accountId: string;
  connectionId: string;
}

/** A poll of one account's TTP logs; scheduled only. A failed poll is not retried in place: the next one resumes from the cursor. */
export const MimecastPollJob = defineJob<MimecastPollJobData>({
  queue: QueueName.MimecastPoll,
  name: 'mimecast-poll',
  options: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
});

/** One job scheduler per account, so BullMQ keeps at most one pending poll for it. */
export function mimecastPollSchedulerId(accountId: string): string {
  return `mimecast-poll:${accountId}`;
}
