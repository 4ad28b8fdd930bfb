import { Registry } from 'prom-client';
import { CachingDnsResolver, DnsError } from './dns-resolver';

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.filter((entry) => Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted)).reduce((sum, entry) => sum + entry.value, 0);
}

describe('CachingDnsResolver metrics', () => {
  it('should count each lookup by where its answer came from, and each upstream query by result', async () => {
    const registry = new Registry();
    let release: () => void = () => undefined;
    const resolver = new CachingDnsResolver({
      registry,
      lookup: async (name) => {
        if (name === 'slow.example') {
          await new Promise<void>((resolve) => (release = resolve));
        }
        if (name === 'missing.example') {
          throw new DnsError('ENOTFOUND', name, 'TXT');
        }
        if (name === 'broken.example') {
          throw new DnsError('ESERVFAIL', name, 'TXT');
        }
        return { records: [['v=spf1 -all']] };
      },
    });
    await resolver.resolve('a.example', 'TXT');
    await resolver.resolve('A.example.', 'TXT');
    await expect(resolver.resolve('missing.example', 'TXT')).rejects.toThrow();
    await expect(resolver.resolve('missing.example', 'TXT')).rejects.toThrow();
    await expect(resolver.resolve('broken.example', 'TXT')).rejects.toThrow();
    await expect(resolver.resolve('broken.example', 'TXT')).rejects.toThrow();
    const both = Promise.all([resolver.resolve('slow.example', 'TXT'), resolver.resolve('slow.example', 'TXT')]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await both;
    await resolver.resolve('x.example', 'SPF-ish');

    expect(await value(registry, 'mailwarden_dns_lookups_total', { type: 'TXT', source: 'upstream' })).toBe(5);
    expect(await value(registry, 'mailwarden_dns_lookups_total', { type: 'TXT', source: 'cache' })).toBe(1);
    expect(await value(registry, 'mailwarden_dns_lookups_total', { type: 'TXT', source: 'negative_cache' })).toBe(1);
    expect(await value(registry, 'mailwarden_dns_lookups_total', { type: 'TXT', source: 'coalesced' })).toBe(1);
    expect(await value(registry, 'mailwarden_dns_upstream_queries_total', { result: 'answer' })).toBe(3);
    expect(await value(registry, 'mailwarden_dns_upstream_queries_total', { result: 'nxdomain' })).toBe(1);
    // A SERVFAIL is never cached: both lookups went upstream and both count as temporary errors.
    expect(await value(registry, 'mailwarden_dns_upstream_queries_total', { result: 'servfail' })).toBe(2);
    // The record type is a label from a fixed set: anything else is `other`, never the caller's string.
    expect(await value(registry, 'mailwarden_dns_lookups_total', { type: 'other' })).toBe(1);
  });
});
