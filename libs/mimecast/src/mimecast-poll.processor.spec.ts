import type { Job } from 'bullmq';
import { createMimecastPollProcessor } from './mimecast-poll.processor';
import type { MimecastPollJobData } from '@mailwarden/queue';
import { MimecastPollStatus, type MimecastPollResult } from './mimecast-poller.service';

const counts = { pages: 1, received: 0, stored: 0, duplicates: 0, malformed: 0, clean: 0, unmapped: 0 };
const job = { id: 'j1', data: { accountId: 'a1', connectionId: 'c1' } } as Job<MimecastPollJobData>;

describe('createMimecastPollProcessor', () => {
  it('should poll the connection named by the job', async () => {
    const result: MimecastPollResult = { status: MimecastPollStatus.Succeeded, runId: 'r1', counts, errors: [] };
    const poll = jest.fn().mockResolvedValue(result);
    await expect(createMimecastPollProcessor({ poll })(job)).resolves.toBe(result);
    expect(poll).toHaveBeenCalledWith('c1');
  });

  it('should fail the job when the poll failed', async () => {
    const poll = jest.fn().mockResolvedValue({ status: MimecastPollStatus.Failed, runId: 'r1', counts, errors: ['url: 503'] });
    await expect(createMimecastPollProcessor({ poll })(job)).rejects.toThrow(/account a1 failed: url: 503/);
  });

  it('should complete a skipped poll', async () => {
    const poll = jest.fn().mockResolvedValue({ status: MimecastPollStatus.Skipped, runId: null, counts, errors: [] });
    await expect(createMimecastPollProcessor({ poll })(job)).resolves.toMatchObject({ status: 'SKIPPED' });
  });
});
