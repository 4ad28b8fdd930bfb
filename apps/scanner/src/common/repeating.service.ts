import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/** How a {@link RepeatingService} runs: every `everyMs` from the app's start; `atStart`: once at the start too. */
export interface Repetition {
  everyMs: number;
  /** Logged (warn, with the error's message) when a run fails; the next run comes at its time. */
  failedEvent: string;
  atStart?: boolean;
}

/**
 * The scanner's timers that are not jobs (scan and delivery sweepers, statistics compaction, retention, search index flush): `repeat()`
 * runs every `repetition.everyMs` from the app's bootstrap to its shutdown, on a timer that never holds the process
 * open. A run that fails is logged and does not stop the next.
 */
export abstract class RepeatingService implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;

  protected abstract repetition(): Repetition;

  /** One run (the sweep, the compaction, …). */
  protected abstract repeat(): Promise<unknown>;

  onApplicationBootstrap(): void {
    const { everyMs, failedEvent, atStart } = this.repetition();
    const tick = (): void => void this.repeat().catch((error: Error) => this.logger.warn({ event: failedEvent, error: error.message }));
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
    if (atStart) {
      tick();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
