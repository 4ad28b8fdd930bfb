import { gcPauses, tailFigures, type CopyTimeline } from './tail';

describe(tailFigures.name, () => {
  // 100 copies, one every 10 ms, 5 ms each from 250 to verdict, except two stalled ones.
  const copies: CopyTimeline[] = Array.from({ length: 100 }, (_, index) => {
    const acceptedAt = 1_000_000 + index * 10;
    const stalled = index === 50 || index === 51;
    return { storedAt: acceptedAt - 2, acceptedAt, verdictAt: acceptedAt + (stalled ? 300 : 5) };
  });

  it('should name the slowest 1 %, when they came and what PostgreSQL was doing while they waited', () => {
    const samples = [
      { at: 1_000_100, labels: ['store:CPU'] },
      { at: 1_000_510, labels: ['store:LWLock/WALWrite', 'flush:CPU'] },
      { at: 1_000_600, labels: ['store:LWLock/WALWrite'] },
      { at: 1_000_900, labels: [] },
    ];
    const figures = tailFigures(copies, samples);
    expect(figures).toMatchObject({ copies: 100, p50: 5, p99: 300, slowOffsetsSeconds: [0.5, 0.5], firstCopiesMs: [5, 5, 5, 5, 5, 5, 5, 5] });
    expect(figures.stages.slow).toEqual({ storeTo250: 2, toVerdict: 300 });
    // Both samples inside the stalled copies' waits show the WAL lock; one of them a flush.
    expect(figures.activity.slow).toEqual({ 'store:LWLock/WALWrite': 1, 'flush:CPU': 0.5 });
    expect(figures.activity.all['store:CPU']).toBe(0.25);
    // Only the two stalled copies were waiting when the flush was seen.
    expect(figures.overlapsFlush).toEqual({ slow: 1, all: 0.02 });
  });
});

describe(gcPauses.name, () => {
  it("should count the pauses of 10 ms and more, and 100 ms and more, per kind from prom-client's histogram", () => {
    const text = [
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 40',
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} 48',
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="0.1",kind="minor"} 50',
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} 50',
      'mailwarden_nodejs_gc_duration_seconds_count{kind="minor"} 50',
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} 1',
      'mailwarden_nodejs_gc_duration_seconds_bucket{le="0.1",kind="major"} 3',
      'mailwarden_nodejs_gc_duration_seconds_count{kind="major"} 4',
    ].join('\n');
    expect(gcPauses(text)).toEqual({ minor: { total: 50, over10ms: 2, over100ms: 0 }, major: { total: 4, over10ms: 3, over100ms: 1 } });
    expect(gcPauses(null)).toBeNull();
    // Several processes of the ingest (--smtp-processes): their texts one after the other add up.
    expect(gcPauses(`${text}\n${text}`)).toEqual({ minor: { total: 100, over10ms: 4, over100ms: 0 }, major: { total: 8, over10ms: 6, over100ms: 2 } });
  });
});
