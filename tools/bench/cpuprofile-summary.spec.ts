import { ownerOf, selfTimeByOwner, topSelfTime, type CpuProfile } from './cpuprofile-summary';

function profile(samples: Array<[number, number]>): CpuProfile {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });
  return {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('parse', 'file:///repo/node_modules/mailauth/lib/dkim/verify.js') },
      { id: 3, callFrame: frame('', 'file:///repo/dist/libs/db/src/x.js') },
    ],
    // timeDeltas[i] precedes samples[i]: a sample lasts until the next one.
    samples: samples.map(([node]) => node),
    timeDeltas: [0, ...samples.map(([, micros]) => micros)].slice(0, samples.length),
  };
}

describe(topSelfTime.name, () => {
  it('should add each sample the interval up to the next one, leave idle out and sort by self time', () => {
    const result = topSelfTime([profile([[2, 3000], [3, 1000], [2, 4000], [1, 0]])]);
    expect(result.busyMs).toBe(8);
    expect(result.top).toEqual([
      { fn: 'parse mailauth/lib/dkim/verify.js:10', ms: 7, percent: 87.5 },
      { fn: '(anonymous) dist/libs/db/src/x.js:10', ms: 1, percent: 12.5 },
    ]);
  });

  it('should add the same function up across profiles and cut the list at the limit', () => {
    const result = topSelfTime([profile([[2, 2000], [3, 500], [1, 0]]), profile([[2, 2000], [1, 0]])], 1);
    expect(result.top).toEqual([{ fn: 'parse mailauth/lib/dkim/verify.js:10', ms: 4, percent: 88.9 }]);
  });
});

describe(ownerOf.name, () => {
  it('should name the package, the repo part, node itself or the native function', () => {
    expect(ownerOf({ functionName: 'Hn', url: 'file:///r/node_modules/@prisma/client/runtime/client.js' })).toBe('@prisma/client');
    expect(ownerOf({ functionName: 'x', url: 'file:///r/node_modules/mailauth/node_modules/punycode/p.js' })).toBe('mailauth');
    expect(ownerOf({ functionName: 'ingest', url: 'file:///r/dist/apps/journal-ingest/src/ingest/ingest.service.js' })).toBe('apps/journal-ingest');
    expect(ownerOf({ functionName: 'concat', url: 'node:buffer' })).toBe('node');
    expect(ownerOf({ functionName: 'writev', url: '' })).toBe('native writev');
  });
});

describe(selfTimeByOwner.name, () => {
  it('should add self time up per owner', () => {
    expect(selfTimeByOwner([profile([[2, 3000], [3, 1000], [2, 4000], [1, 0]])]).top).toEqual([
      { fn: 'mailauth', ms: 7, percent: 87.5 },
      { fn: 'libs/db', ms: 1, percent: 12.5 },
    ]);
  });
});
