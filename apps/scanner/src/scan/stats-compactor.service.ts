import { Injectable } from '@nestjs/common';
import { StatisticsRepository } from '@mailwarden/db';
import { RepeatingService, type Repetition } from '../common/repeating.service';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const COMPACT_EVERY_MS = 10 * 60_000;

/**
 * Keeps the dashboard aggregates small (issue 13 §4): the verdict write spreads each hour's counts over shards so
 * concurrent writers of one tenant do not queue on one row; once an hour is over (with an hour's margin for
 * statements still in flight) its shards are folded into one row per key, and once a day is over (with an hour's
 * margin) its hours are folded into one row per key, top lists keeping their largest values.
 */
@Injectable()
export class StatsCompactorService extends RepeatingService {
  constructor(private readonly statistics: StatisticsRepository) {
    super();
  }

  protected repetition(): Repetition {
    return { everyMs: COMPACT_EVERY_MS, failedEvent: 'stats.compaction_failed' };
  }

  protected repeat(): Promise<number> {
    return this.compact();
  }

  /**
   * Folds every hour that ended more than an hour ago, and every UTC day that ended more than an hour ago (top lists
   * trimmed to their largest values); returns the rows removed.
   */
  async compact(now = Date.now()): Promise<number> {
    const hours = await this.statistics.compact(new Date(Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS));
    // The last midnight at least an hour ago: a day is folded an hour after it ended.
    const removed = hours + (await this.statistics.compactDays(new Date(Math.floor((now - HOUR_MS) / DAY_MS) * DAY_MS)));
    if (removed > 0) {
      this.logger.log({ event: 'stats.compacted', removed });
    }
    return removed;
  }
}
