import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { collectOnScrape, gauge, METRICS_REGISTRY, metricsIn } from '@mailwarden/observability';
import { QueueName } from './queue-name';
import { QUEUE_OPTIONS } from './queue.constants';
import { createRedisClient, queuePrefix, type QueueOptions } from './redis-connection';

/** The job states reported per queue (BullMQ's names; `failed` jobs are kept: DEFAULT_JOB_OPTIONS.removeOnFail). */
export const QUEUE_METRIC_STATES = ['wait', 'prioritized', 'active', 'delayed', 'failed', 'waiting-children'] as const;

const QUEUE_GAUGES = {
  jobs: gauge('mailwarden_queue_jobs', 'Jobs per queue and state (failed: jobs that used up their attempts)', ['queue', 'state']),
  waitingAge: gauge('mailwarden_queue_oldest_waiting_seconds', 'How long the oldest job ready to run has been waiting (0: none waiting)', ['queue']),
};

/** The queue gauges (definitions only; {@link QueueMetrics} fills them at scrape time). */
export function queueGauges(registry: Registry) {
  return metricsIn(registry, QUEUE_GAUGES);
}

/**
 * Queue depth, waiting age and failures of every Mailwarden queue, read from Redis when Prometheus scrapes (one
 * pipeline of counts and one look at the oldest waiting job per queue; nothing on the hot path). The figures are
 * Redis's, the same whichever process reads them: the scanner reports them (dashboards take `max by (queue)` when
 * several scanners run). Redis down: the last values stay and the scrape still answers.
 */
@Injectable()
export class QueueMetrics implements OnModuleDestroy {
  private readonly redis: Redis | Cluster;
  private readonly queues: Queue[];

  constructor(@Inject(QUEUE_OPTIONS) options: QueueOptions, @Optional() @Inject(METRICS_REGISTRY) registry: Registry = new Registry()) {
    // Its own connection, failing fast (2 s) rather than holding a scrape while Redis is away.
    // On a Redis Cluster: a Cluster client and the hash-tagged prefix, as for every other queue client.
    this.redis = createRedisClient(options, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2000 });
    this.redis.on('error', () => undefined);
    this.queues = Object.values(QueueName).map((name) => new Queue(name, { connection: this.redis, prefix: queuePrefix(options) }));
    // Its client's errors are ignored above; the queues re-emit them, and an 'error' without a listener is printed.
    for (const queue of this.queues) {
      queue.on('error', () => undefined);
    }
    const { jobs, waitingAge } = queueGauges(registry);
    collectOnScrape([jobs, waitingAge], async () => {
      const now = Date.now();
      const rows = await Promise.all(
        this.queues.map(async (queue) => {
          const [counts, [oldest]] = await Promise.all([queue.getJobCounts(...QUEUE_METRIC_STATES), queue.getJobs(['wait'], 0, 0, true)]);
          // A delayed or retried job became ready at its delay's end or its last start, not at its creation.
          const readySince = oldest ? Math.max(oldest.timestamp + (oldest.delay ?? 0), oldest.processedOn ?? 0) : now;
          return { queue: queue.name, counts, waitingSeconds: Math.max(0, (now - readySince) / 1000) };
        }),
      );
      for (const row of rows) {
        for (const state of QUEUE_METRIC_STATES) {
          jobs.set({ queue: row.queue, state }, row.counts[state] ?? 0);
        }
        waitingAge.set({ queue: row.queue }, row.waitingSeconds);
      }
    });
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close().catch(() => undefined)));
    this.redis.disconnect();
  }
}
