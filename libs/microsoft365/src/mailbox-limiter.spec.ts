import { MailboxLimiter } from './mailbox-limiter';

describe(MailboxLimiter.name, () => {
  it('should run at most four tasks per mailbox at once, and other mailboxes beside them', async () => {
    const limiter = new MailboxLimiter(4);
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    const task = (key: string) =>
      limiter.run(key, async () => {
        active.set(key, (active.get(key) ?? 0) + 1);
        peak.set(key, Math.max(peak.get(key) ?? 0, active.get(key)!));
        await new Promise((resolve) => setTimeout(resolve, 2));
        active.set(key, active.get(key)! - 1);
      });
    await Promise.all([...Array.from({ length: 30 }, () => task('a')), ...Array.from({ length: 10 }, () => task('b'))]);
    expect(Object.fromEntries(peak)).toEqual({ a: 4, b: 4 });
  });

  it('should hold a paused mailbox until its Retry-After has passed', async () => {
    let clock = 1000;
    const slept: number[] = [];
    const limiter = new MailboxLimiter(4, () => clock, async (ms) => {
      slept.push(ms);
      clock += ms;
    });
    limiter.pause('a', 3000);
    await limiter.waitIfPaused('a');
    await limiter.waitIfPaused('b');
    expect([slept, clock]).toEqual([[3000], 4000]);
  });
});
