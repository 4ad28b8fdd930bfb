import { Registry } from 'prom-client';
import type { ScanTarget } from '@mailwarden/db';
import { InlineScans, SCAN_SWEEP_GRACE_MS, INLINE_SCAN_MAX_WAIT_MS, type InlineScanHandoffReason, type InlineScanSettings, type StoredCopy } from './inline-scans';
import { ScanOutcome } from './scan-message.service';

/** The scheduling of in-process scans alone; the scans themselves run on PostgreSQL in the journal-ingest suites. */
describe('InlineScans', () => {
  const copy = (id: string, bytes = 10, attemptCounted?: boolean): StoredCopy => ({
    target: { id, accountId: 'a', source: 'JOURNAL', direction: 'INBOUND', envelopeFrom: 'x@y.example', envelopeTo: ['b@c.example'], headerFrom: null, clientIp: null, helo: null } as ScanTarget,
    raw: Buffer.alloc(bytes),
    attemptCounted,
  });

  /** A scan service whose scans end when the test says so (or throw). */
  function scanner() {
    const started: string[] = [];
    const counted: Array<[string, boolean | undefined]> = [];
    const released: string[] = [];
    const finish = new Map<string, (error?: Error) => void>();
    const scans = {
      releaseCountedAttempt: async (id: string) => {
        released.push(id);
      },
      scanStored: (target: ScanTarget, _raw: Buffer, options: { attemptCounted?: boolean } = {}) => {
        started.push(target.id);
        counted.push([target.id, options.attemptCounted]);
        return new Promise<{ outcome: ScanOutcome }>((resolve, reject) => finish.set(target.id, (error) => (error ? reject(error) : resolve({ outcome: ScanOutcome.Scanned }))));
      },
    };
    return { scans, started, counted, released, finish: (id: string, error?: Error) => finish.get(id)!(error) };
  }

  function setUp(settings: Partial<InlineScanSettings> = {}) {
    const fake = scanner();
    const handedOff: Array<[string, InlineScanHandoffReason]> = [];
    const registry = new Registry();
    const inline = new InlineScans(fake.scans, { enabled: true, concurrency: 2, maxWaiting: 1, maxBytes: 1000, ...settings }, async (stored, reason) => {
      handedOff.push([stored.target.id, reason]);
    }, registry);
    return { ...fake, inline, handedOff, registry };
  }

  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('should keep its time bound below the sweeper grace period', () => {
    // A scan waits at most INLINE_SCAN_MAX_WAIT_MS for a slot, then runs with DNS lookups of 5 s each at most.
    expect(INLINE_SCAN_MAX_WAIT_MS + 3 * 5_000).toBeLessThan(SCAN_SWEEP_GRACE_MS);
  });

  it('should start no scan before the caller returns, run at most `concurrency`, and queue what does not fit', async () => {
    const { inline, started, handedOff, finish } = setUp();
    inline.submit(copy('m1'));
    expect(started).toEqual([]); // the SMTP reply is written before the scan starts
    inline.submit(copy('m2'));
    inline.submit(copy('m3')); // waits
    inline.submit(copy('m4')); // backlog full
    await turn();
    expect(started).toEqual(['m1', 'm2']);
    expect(inline.load).toEqual({ waiting: 1, running: 2, bytes: 30 });
    expect(handedOff).toEqual([['m4', 'saturated']]);
    finish('m1');
    await turn();
    await turn();
    expect(started).toEqual(['m1', 'm2', 'm3']);
    finish('m2');
    finish('m3');
    await turn();
    await turn();
    expect(inline.load).toEqual({ waiting: 0, running: 0, bytes: 0 });
  });

  it('should hand a copy to the queue when its bytes would pass the budget', async () => {
    const { inline, started, handedOff } = setUp({ maxBytes: 100 });
    inline.submit(copy('big', 101));
    inline.submit(copy('m1', 60));
    inline.submit(copy('m2', 60));
    await turn();
    expect(started).toEqual(['m1']);
    expect(handedOff).toEqual([
      ['big', 'saturated'],
      ['m2', 'saturated'],
    ]);
  });

  it('should queue a copy whose in-process attempt failed, and a copy that waited too long for a slot', async () => {
    const { inline, started, handedOff, finish } = setUp({ concurrency: 1, maxWaitMs: -1 });
    inline.submit(copy('m1'));
    inline.submit(copy('m2'));
    await turn();
    finish('m1', new Error('DNS temperror in spf'));
    await turn();
    await turn();
    expect(started).toEqual(['m1']);
    expect(handedOff).toEqual([
      ['m1', 'retry'],
      ['m2', 'waited'],
    ]);
  });

  it('should queue everything when inline scanning is off', async () => {
    const { inline, started, handedOff, registry } = setUp({ enabled: false });
    inline.submit(copy('m1'));
    await turn();
    expect(started).toEqual([]);
    expect(handedOff).toEqual([['m1', 'off']]);
    expect((await registry.getSingleMetric('mailwarden_inline_scan_handoffs_total')!.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'off' }, value: 1 })]);
  });

  it('should, on close, queue the waiting copies and wait for the running scans', async () => {
    const { inline, started, handedOff, finish } = setUp({ concurrency: 1, maxWaiting: 5 });
    inline.submit(copy('m1'));
    inline.submit(copy('m2'));
    await turn();
    let closed = false;
    const closing = inline.close(60_000).then((result) => {
      closed = true;
      return result;
    });
    await turn();
    expect(handedOff).toEqual([['m2', 'closing']]);
    expect(closed).toBe(false); // m1 still runs
    inline.submit(copy('m3')); // a late copy goes to the queue too
    finish('m1');
    expect(await closing).toEqual({ handedOff: 1, unfinished: 0 });
    expect(started).toEqual(['m1']);
    expect(handedOff).toEqual([
      ['m2', 'closing'],
      ['m3', 'closing'],
    ]);
  });

  it('should, on close, leave a scan that does not end in time to the sweeper (its message stays PENDING)', async () => {
    const { inline } = setUp({ concurrency: 1 });
    inline.submit(copy('m1'));
    await turn();
    expect(await inline.close(0)).toEqual({ handedOff: 0, unfinished: 1 });
  });

  it('should scan a copy stored with its attempt counted without counting another, and release that attempt when the copy goes to the queue unscanned', async () => {
    const { inline, counted, released, handedOff, finish } = setUp({ concurrency: 1, maxWaiting: 0 });
    inline.submit(copy('m1', 10, true));
    inline.submit(copy('m2', 10, true)); // saturated: queued, its attempt unused
    inline.submit(copy('m3')); // stored without a counted attempt: nothing to release
    await turn();
    expect(counted).toEqual([['m1', true]]);
    expect(handedOff).toEqual([
      ['m2', 'saturated'],
      ['m3', 'saturated'],
    ]);
    expect(released).toEqual(['m2']);

    // A failed in-process attempt used its count: the queue retries it, nothing is released.
    finish('m1', new Error('dns temperror'));
    await inline.close(1_000);
    expect(handedOff).toContainEqual(['m1', 'retry']);
    expect(released).toEqual(['m2']);
  });
});
