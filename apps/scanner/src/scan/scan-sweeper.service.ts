import { Injectable } from '@nestjs/common';
import { MessageRepository } from '@mailwarden/db';
import { JobQueues, QueueName, ScanMessageJob, type JobQueue } from '@mailwarden/queue';
import { SCAN_SWEEP_GRACE_MS } from '@mailwarden/scanning';
import { RepeatingService, type Repetition } from '../common/repeating.service';

/**
 * How long a stored message may wait for its scan job before the sweeper enqueues it (again). Above the time bound of
 * the journal ingest's own scan after the commit (libs/scanning `InlineScans`), so a live in-process scan is not
 * normally scanned a second time from the queue.
 */
export const SWEEP_GRACE_MS = SCAN_SWEEP_GRACE_MS;
const SWEEP_EVERY_MS = 15_000;

/**
 * The transactional outbox's relay: a stored message that is still PENDING after the grace period is
 * (re-)enqueued. The job id is the message id, so a message whose job is still queued or running is not
 * enqueued twice; a crash between the ingest's commit and its enqueue loses nothing.
 */
@Injectable()
export class ScanSweeperService extends RepeatingService {
  private readonly queue: JobQueue;

  constructor(
    private readonly messages: MessageRepository,
    queues: JobQueues,
  ) {
    super();
    this.queue = queues.get(QueueName.Scan);
  }

  protected repetition(): Repetition {
    return { everyMs: SWEEP_EVERY_MS, failedEvent: 'scan.sweep_failed' };
  }

  protected repeat(): Promise<number> {
    return this.sweep();
  }

  /** Enqueues every message pending for longer than `graceMs`; returns how many were (re-)enqueued. */
  async sweep(graceMs = SWEEP_GRACE_MS): Promise<number> {
    const pending = await this.messages.findPendingScan(new Date(Date.now() - graceMs));
    let enqueued = 0;
    for (const message of pending) {
      const existing = await this.queue.queue.getJob(message.id);
      // A failed job keeps its id: remove it so the message gets a fresh one (its attempts were used up on errors).
      if (existing && (await existing.isFailed())) {
        await existing.remove();
      } else if (existing) {
        continue;
      }
      await this.queue.add(ScanMessageJob, { messageId: message.id, accountId: message.accountId });
      enqueued++;
    }
    if (enqueued > 0) {
      this.logger.log({ event: 'scan.swept', enqueued });
    }
    return enqueued;
  }
}
