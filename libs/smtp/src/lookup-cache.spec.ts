import { LookupCache } from './lookup-cache';

describe(LookupCache.name, () => {
  let clock = 0;
  const now = () => clock;

  beforeEach(() => {
    clock = 0;
  });

  it('should reuse an answer, null included, until the TTL has passed', async () => {
    const cache = new LookupCache<string | null>(5_000, 100, now);
    const load = jest.fn(async () => null);
    expect(await cache.get('a', load)).toBeNull();
    clock = 4_999;
    expect(await cache.get('a', load)).toBeNull();
    expect(load).toHaveBeenCalledTimes(1);
    clock = 5_000;
    await cache.get('a', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('should share one lookup between concurrent callers and keep keys apart', async () => {
    const cache = new LookupCache<string>(5_000, 100, now);
    const load = jest.fn(async () => 'x');
    const [one, two] = [cache.get('a', load), cache.get('a', load)];
    expect(one).toBe(two);
    await cache.get('b', async () => 'y');
    expect(await cache.get('b', load)).toBe('y');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('should not keep a failed lookup', async () => {
    const cache = new LookupCache<string>(5_000, 100, now);
    await expect(cache.get('a', async () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(await cache.get('a', async () => 'back')).toBe('back');
  });

  it('should start over when full instead of growing', async () => {
    const cache = new LookupCache<number>(5_000, 2, now);
    await cache.get('a', async () => 1);
    await cache.get('b', async () => 2);
    await cache.get('c', async () => 3);
    const load = jest.fn(async () => 10);
    expect(await cache.get('a', load)).toBe(10);
  });
});
