interface MailboxState {
  active: number;
  waiters: Array<() => void>;
  pausedUntil: number;
}

/**
 * Outlook's per-mailbox limits for one app (Graph throttling docs: 4 concurrent requests per app and mailbox):
 * at most `maxConcurrent` requests per mailbox at once in this process, and after a 429 for a mailbox, no request
 * to it starts before its Retry-After has passed. Share one instance between every Graph client of a process.
 */
export class MailboxLimiter {
  private readonly mailboxes = new Map<string, MailboxState>();

  constructor(
    readonly maxConcurrent = 4,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const state = this.state(key);
    if (state.active >= this.maxConcurrent) {
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    } else {
      state.active++;
    }
    try {
      return await task();
    } finally {
      const next = state.waiters.shift();
      if (next) {
        next(); // the slot passes straight to the next waiter
      } else {
        state.active--;
        if (state.active === 0 && state.pausedUntil <= this.now()) {
          this.mailboxes.delete(key);
        }
      }
    }
  }

  /** Graph answered 429 for this mailbox: hold every request to it for `ms`. */
  pause(key: string, ms: number): void {
    const state = this.state(key);
    state.pausedUntil = Math.max(state.pausedUntil, this.now() + ms);
  }

  /** Waits out a pause of the mailbox, if any. */
  async waitIfPaused(key: string): Promise<void> {
    for (;;) {
      const pausedUntil = this.mailboxes.get(key)?.pausedUntil ?? 0;
      const wait = pausedUntil - this.now();
      if (wait <= 0) {
        return;
      }
      await this.sleep(wait);
    }
  }

  private state(key: string): MailboxState {
    let state = this.mailboxes.get(key);
    if (!state) {
      state = { active: 0, waiters: [], pausedUntil: 0 };
      this.mailboxes.set(key, state);
    }
    return state;
  }
}
