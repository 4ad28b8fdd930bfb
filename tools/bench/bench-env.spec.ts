import { benchAppSettings } from './bench-env';

describe('benchAppSettings', () => {
  it('gives the apps each MW_BENCH_APP_<NAME> of the bench environment as <NAME>, nothing else', () => {
    expect(benchAppSettings({ MW_BENCH_APP_INGEST_INLINE_SCAN_CONCURRENCY: '4', MW_BENCH_APP_: 'x', PATH: '/bin', MW_BENCH_PROFILE_DIR: '/tmp' })).toEqual({
      INGEST_INLINE_SCAN_CONCURRENCY: '4',
    });
  });
});
