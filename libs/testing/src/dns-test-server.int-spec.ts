import { Resolver } from 'node:dns/promises';
import { DnsTestServer } from './dns-test-server';

/** The test DNS as its real client sees it: node:dns (c-ares), the resolver the scanner uses with DNS_SERVERS. */
describe(DnsTestServer.name, () => {
  const key = `v=DKIM1; k=rsa; p=${'B'.repeat(400)}`;
  const server = new DnsTestServer({
    'sender.bench.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'], A: ['127.0.0.1'], MX: [{ exchange: 'mx.sender.bench.test', priority: 10 }] },
    'bench._domainkey.sender.bench.test': { TXT: [key] },
  });
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    resolver.setServers([`127.0.0.1:${await server.start()}`]);
  });

  afterAll(() => server.stop());

  it('should be read by node:dns: TXT (split key joined back), A, MX', async () => {
    expect(await resolver.resolveTxt('sender.bench.test')).toEqual([['v=spf1 ip4:127.0.0.1 -all']]);
    expect((await resolver.resolveTxt('bench._domainkey.sender.bench.test'))[0]!.join('')).toBe(key);
    expect(await resolver.resolve4('sender.bench.test')).toEqual(['127.0.0.1']);
    expect(await resolver.resolveMx('sender.bench.test')).toMatchObject([{ exchange: 'mx.sender.bench.test', priority: 10 }]);
  });

  it('should give node:dns ENOTFOUND for an unknown name and ENODATA for a missing type', async () => {
    await expect(resolver.resolveTxt('_dmarc.elsewhere.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6('sender.bench.test')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(server.queries).toBeGreaterThanOrEqual(6);
  });
});
