import { DnsTestServer, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../../test/admin-api.harness';

/**
 * Issue 13 §3: domain verification asks the resolvers of DNS_SERVERS (here a UDP DNS server on 127.0.0.1), not the
 * API host's system resolver; the answer says when it came from the cache, and `?bypassCache=true` asks again.
 */
describe('domain verification through DNS_SERVERS', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let baseUrl: string;
  let key: string;
  let accountId: string;
  let domainId: string;
  let token: string;
  const dns = new DnsTestServer({});

  beforeAll(async () => {
    await dns.start();
    api = await startTestAdminApi({ env: { DNS_SERVERS: dns.server, DNS_TIMEOUT_MS: '2000' } });
    ({ db, baseUrl } = api);
    const factories = new TestFactories(db.prisma);
    const account = await factories.newAccount();
    const domain = await factories.newDomain(account, { name: 'verify.example', verified: false });
    accountId = account.id;
    domainId = domain.id;
    token = domain.verificationToken;
    key = (await new TestFactories(db.prisma).newApiKey({ name: 'admin', role: 'TENANT_ADMIN', accountId })).plaintext;
  });

  afterAll(async () => {
    await api?.close();
    await dns.stop();
  });

  const verify = async (query = '') => {
    const response = await fetch(`${baseUrl}/v1/accounts/${accountId}/domains/${domainId}/verify${query}`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('should ask the configured DNS server, say when the answer came from the cache, and bypass the cache on request', async () => {
    const first = await verify();
    expect(first).toMatchObject({ status: 200, body: { verified: false, txtRecords: [], dnsError: null, fromCache: false } });
    expect(dns.questions).toEqual(['16 verify.example']);

    // The admin publishes the record; within the negative TTL the cached "no record" answers, and says so.
    dns.zone['verify.example'] = { TXT: ['v=spf1 -all', token] };
    const cached = await verify();
    expect(cached.body).toMatchObject({ verified: false, fromCache: true, domain: { verificationStatus: 'FAILED' } });
    expect(dns.questions).toHaveLength(1);

    const fresh = await verify('?bypassCache=true');
    expect(fresh.body).toMatchObject({ verified: true, fromCache: false, txtRecords: ['v=spf1 -all', token], domain: { verificationStatus: 'VERIFIED' } });
    expect(dns.questions).toEqual(['16 verify.example', '16 verify.example']);
    // The fresh answer replaced the cached one.
    expect((await verify()).body).toMatchObject({ verified: true, fromCache: true });

    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: domainId, action: 'domain.verification_checked' }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => (event.after as { evidence: { fromCache: boolean } }).evidence.fromCache)).toEqual([false, true, false, true]);
  });

  it('should refuse a bypassCache value that is not a boolean with 400', async () => {
    expect(await verify('?bypassCache=yes')).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'bypassCache' })] } });
  });

  it('should report a DNS server that does not answer as a DNS error, leaving the status unchanged', async () => {
    await dns.stop();
    const reply = await verify('?bypassCache=true');
    expect(reply.body).toMatchObject({ verified: true, fromCache: false, dnsError: expect.stringMatching(/^E[A-Z]+$/), domain: { verificationStatus: 'VERIFIED' } });
  });
});
