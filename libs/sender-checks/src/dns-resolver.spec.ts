import { CachingDnsResolver, DnsAnswer, DnsError, DnsLookup, DnsTimeoutError, parseDnsServers } from './dns-resolver';

/** An upstream that answers from a table and logs every query it receives. */
function fakeUpstream(answers: Record<string, DnsAnswer | string | (() => Promise<DnsAnswer>)>) {
  const queries: string[] = [];
  const lookup: DnsLookup = async (name, type) => {
    const key = `${type} ${name}`;
    queries.push(key);
    const answer = answers[key];
    if (answer === undefined) {
      throw new DnsError('ENOTFOUND', name, type);
    }
    if (typeof answer === 'string') {
      throw new DnsError(answer, name, type);
    }
    return typeof answer === 'function' ? answer() : answer;
  };
  return { lookup, queries };
}

describe(CachingDnsResolver.name, () => {
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('should keep a positive answer for its TTL and ask again after it expires', async () => {
    const upstream = fakeUpstream({ 'A mx.example': { records: ['192.0.2.1'], ttlSeconds: 30 } });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now });
    expect(await resolver.resolve('mx.example', 'A')).toEqual(['192.0.2.1']);
    clock += 29_000;
    expect(await resolver.resolve('MX.example.', 'a')).toEqual(['192.0.2.1']);
    expect(upstream.queries).toEqual(['A mx.example']);
    clock += 1_001;
    await resolver.resolve('mx.example', 'A');
    expect(upstream.queries).toEqual(['A mx.example', 'A mx.example']);
  });

  it('should use the default TTL when the upstream reports none, bounded by maxTtlSeconds', async () => {
    const upstream = fakeUpstream({
      'TXT example.org': { records: [['v=spf1 -all']] },
      'TXT long.example': { records: [['x']], ttlSeconds: 86400 },
    });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now, defaultTtlSeconds: 60, maxTtlSeconds: 120 });
    await resolver.resolve('example.org', 'TXT');
    await resolver.resolve('long.example', 'TXT');
    clock += 59_000;
    await resolver.resolve('example.org', 'TXT');
    clock += 2_000;
    await resolver.resolve('example.org', 'TXT');
    clock += 60_000;
    await resolver.resolve('long.example', 'TXT');
    expect(upstream.queries).toEqual(['TXT example.org', 'TXT long.example', 'TXT example.org', 'TXT long.example']);
  });

  it.each(['ENOTFOUND', 'ENODATA'])('should cache the negative answer %s for the bounded negative TTL', async (code) => {
    const upstream = fakeUpstream({ 'TXT _dmarc.example.org': code });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now, negativeTtlSeconds: 10 });
    await expect(resolver.resolve('_dmarc.example.org', 'TXT')).rejects.toMatchObject({ code });
    clock += 9_999;
    await expect(resolver.resolve('_dmarc.example.org', 'TXT')).rejects.toMatchObject({ code });
    expect(upstream.queries).toHaveLength(1);
    clock += 1;
    await expect(resolver.resolve('_dmarc.example.org', 'TXT')).rejects.toMatchObject({ code });
    expect(upstream.queries).toHaveLength(2);
  });

  it.each(['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED'])('should not cache the failure %s', async (code) => {
    const upstream = fakeUpstream({ 'TXT example.org': code });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now });
    await expect(resolver.resolve('example.org', 'TXT')).rejects.toMatchObject({ code });
    await expect(resolver.resolve('example.org', 'TXT')).rejects.toMatchObject({ code });
    expect(upstream.queries).toHaveLength(2);
  });

  it('should share one upstream query between concurrent identical lookups', async () => {
    let release!: (answer: DnsAnswer) => void;
    const pending = new Promise<DnsAnswer>((resolve) => (release = resolve));
    const upstream = fakeUpstream({ 'TXT s1._domainkey.example.org': () => pending, 'A example.org': { records: ['192.0.2.9'] } });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now });
    const lookups = [1, 2, 3].map(() => resolver.resolve('s1._domainkey.example.org', 'TXT'));
    const other = resolver.resolve('example.org', 'A');
    release({ records: [['v=DKIM1; p=abc']] });
    const answers = await Promise.all(lookups);
    expect(answers).toEqual([[['v=DKIM1; p=abc']], [['v=DKIM1; p=abc']], [['v=DKIM1; p=abc']]]);
    await other;
    expect(upstream.queries).toEqual(['TXT s1._domainkey.example.org', 'A example.org']);
    // callers get their own arrays: one caller cannot change what another sees
    answers[0].pop();
    expect(await resolver.resolve('s1._domainkey.example.org', 'TXT')).toEqual([['v=DKIM1; p=abc']]);
  });

  it('should share a concurrent negative answer too', async () => {
    const upstream = fakeUpstream({});
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now });
    const results = await Promise.allSettled([resolver.resolve('nx.example', 'TXT'), resolver.resolve('nx.example', 'TXT')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(upstream.queries).toHaveLength(1);
  });

  it('should fail a lookup that outlasts the timeout with ETIMEOUT, abort it, and not cache it', async () => {
    let aborted = false;
    const lookup: DnsLookup = (_name, _type, signal) =>
      new Promise<DnsAnswer>(() => {
        signal.addEventListener('abort', () => (aborted = true));
      });
    const resolver = new CachingDnsResolver({ lookup, timeoutMs: 20, now });
    const error = await resolver.resolve('slow.example', 'TXT').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DnsTimeoutError);
    expect(error).toMatchObject({ code: 'ETIMEOUT', hostname: 'slow.example' });
    expect(aborted).toBe(true);
    expect(resolver.size).toBe(0);
  });

  it('should evict the oldest entries beyond maxEntries', async () => {
    const upstream = fakeUpstream({ 'A a.example': { records: ['192.0.2.1'] }, 'A b.example': { records: ['192.0.2.2'] }, 'A c.example': { records: ['192.0.2.3'] } });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now, maxEntries: 2 });
    await resolver.resolve('a.example', 'A');
    await resolver.resolve('b.example', 'A');
    await resolver.resolve('c.example', 'A');
    expect(resolver.size).toBe(2);
    await resolver.resolve('a.example', 'A');
    expect(upstream.queries).toEqual(['A a.example', 'A b.example', 'A c.example', 'A a.example']);
  });

  it('should say when an answer came from the cache, and ask the upstream again when told to bypass it', async () => {
    const upstream = fakeUpstream({ 'TXT example.org': { records: [['v=spf1 -all']], ttlSeconds: 300 } });
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now });
    expect(await resolver.resolveDetailed('example.org', 'TXT')).toEqual({ records: [['v=spf1 -all']], fromCache: false });
    expect(await resolver.resolveDetailed('example.org', 'TXT')).toEqual({ records: [['v=spf1 -all']], fromCache: true });
    expect(await resolver.resolveDetailed('example.org', 'TXT', { bypassCache: true })).toEqual({ records: [['v=spf1 -all']], fromCache: false });
    expect(upstream.queries).toEqual(['TXT example.org', 'TXT example.org']);
  });

  it('should mark a cached negative answer as from the cache, and replace it with the fresh answer on bypass', async () => {
    const answers: Record<string, DnsAnswer | string> = { 'TXT new.example': 'ENOTFOUND' };
    const upstream = fakeUpstream(answers);
    const resolver = new CachingDnsResolver({ lookup: upstream.lookup, now, negativeTtlSeconds: 30 });
    await expect(resolver.resolveDetailed('new.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const cached = await resolver.resolveDetailed('new.example', 'TXT').catch((error: unknown) => error);
    expect(cached).toBeInstanceOf(DnsError);
    expect(cached).toMatchObject({ code: 'ENOTFOUND', fromCache: true, hostname: 'new.example', rrtype: 'TXT', message: 'queryTXT ENOTFOUND new.example' });
    // a cache hit is an answer, not a failure to locate: no stack trace is captured for it (issue 20, CPU per scan)
    expect((cached as Error).stack).not.toContain('\n    at ');
    answers['TXT new.example'] = { records: [['token']] };
    expect(await resolver.resolveDetailed('new.example', 'TXT', { bypassCache: true })).toEqual({ records: [['token']], fromCache: false });
    expect(await resolver.resolve('new.example', 'TXT')).toEqual([['token']]);
    expect(upstream.queries).toHaveLength(2);
  });

  it('should refuse nonsensical settings', () => {
    expect(() => new CachingDnsResolver({ timeoutMs: 0 })).toThrow(RangeError);
  });
});

describe(parseDnsServers.name, () => {
  it('should read addresses with and without ports, and empty as the system resolvers', () => {
    expect(parseDnsServers('')).toEqual([]);
    expect(parseDnsServers(' 10.0.0.53, 127.0.0.1:5353 ,[::1]:53, ::1')).toEqual(['10.0.0.53', '127.0.0.1:5353', '[::1]:53', '::1']);
  });

  it.each(['dns.example', '127.0.0.1:0', '127.0.0.1:70000', '[::1', '10.0.0.1:x'])('should refuse %s, naming it', (entry) => {
    expect(() => parseDnsServers(`10.0.0.53,${entry}`)).toThrow(`"${entry}"`);
  });
});
