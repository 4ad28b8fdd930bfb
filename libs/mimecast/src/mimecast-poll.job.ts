/** Job name and payload of the per-account Mimecast poll (queue QueueName.MimecastPoll). Ids only. */
export const MIMECAST_POLL_JOB = 'mimecast-poll';

export interface MimecastPollJobData {
  accountId: string;
  connectionId: string;
}

/** One job scheduler per account, so BullMQ keeps at most one pending poll for it. */
export function mimecastPollSchedulerId(accountId: string): string {
  return `mimecast-poll:${accountId}`;
}
