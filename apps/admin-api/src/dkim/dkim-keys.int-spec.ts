import { createPublicKey } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { loadConfig } from '@mailwarden/config';
import { dkimDnsRecord, dkimKeyCipherContext, generateDkimKey } from '@mailwarden/delivery';
import { CredentialsCipher } from '@mailwarden/mimecast';
import { DnsTestServer, listenOnFreePort, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { startTestAdminApi, TEST_SECRETS_KEY, type TestAdminApi } from '../../test/admin-api.harness';
import { createAdminApi } from '../admin-api.app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any


/** Every line the app logged, as JSON text. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.capture(args);
  error = (...args: unknown[]) => this.capture(args);
  warn = (...args: unknown[]) => this.capture(args);
  debug = (...args: unknown[]) => this.capture(args);
  verbose = (...args: unknown[]) => this.capture(args);
  fatal = (...args: unknown[]) => this.capture(args);
  private capture(args: unknown[]): void {
    this.lines.push(JSON.stringify(args, (_key, value: unknown) => (value instanceof Error ? { message: value.message, stack: value.stack } : value)));
  }
}

jest.setTimeout(60_000);

/**
 * Issue 16: outbound DKIM keys through the admin API: generated per verified domain, published through DNS (here a
 * UDP DNS server on 127.0.0.1 named by DNS_SERVERS), activated only when the published record is the generated one,
 * retired; isolated per tenant; the private key in no answer, audit entry or log line.
 */
describe('DKIM keys (admin API)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let redis: TestRedis;
  const dns = new DnsTestServer({});
  const logger = new CapturingLogger();
  const responses: string[] = [];
  const keys: Record<'tenant' | 'readOnly' | 'other', string> = { tenant: '', readOnly: '', other: '' };
  let accountId: string;
  let domainId: string;
  let unverifiedId: string;
  let otherAccountId: string;
  let otherDomainId: string;

  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const reply = await api.call<Json>(method, path, key, body);
    responses.push(reply.text);
    return reply;
  };
  const keysPath = (account = accountId, domain = domainId) => `/v1/accounts/${account}/domains/${domain}/dkim-keys`;

  beforeAll(async () => {
    await dns.start();
    api = await startTestAdminApi({ env: { DNS_SERVERS: dns.server, DNS_TIMEOUT_MS: '2000', LOG_LEVEL: 'verbose' }, logger });
    ({ db, redis } = api);
    const factories = new TestFactories(db.prisma);
    const apiKeys = new TestFactories(db.prisma);
    const account = await factories.newAccount({ monitorOnly: false });
    accountId = account.id;
    domainId = (await factories.newDomain(account, { name: 'contoso.example', mode: 'GATEWAY' })).id;
    unverifiedId = (await factories.newDomain(account, { name: 'pending.example', verified: false })).id;
    const other = await factories.newAccount({ monitorOnly: false });
    otherAccountId = other.id;
    otherDomainId = (await factories.newDomain(other, { name: 'fabrikam.example', mode: 'GATEWAY' })).id;
    keys.tenant = (await apiKeys.newApiKey({ name: 'admin', role: 'TENANT_ADMIN', accountId })).plaintext;
    keys.readOnly = (await apiKeys.newApiKey({ name: 'reader', role: 'READ_ONLY', accountId })).plaintext;
    keys.other = (await apiKeys.newApiKey({ name: 'other admin', role: 'TENANT_ADMIN', accountId: otherAccountId })).plaintext;
  });

  afterAll(async () => {
    await api?.close();
    await dns.stop();
  });

  it('should generate RSA-2048 and Ed25519 keys with the TXT record to publish, and refuse bad input with problem bodies', async () => {
    const rsa = await call('POST', keysPath(), keys.tenant, { selector: 'MW2026', algorithm: 'rsa-sha256' });
    expect(rsa).toMatchObject({
      status: 201,
      body: { domain: 'contoso.example', selector: 'mw2026', algorithm: 'rsa-sha256', status: 'PENDING_DNS', dnsRecord: { name: 'mw2026._domainkey.contoso.example', type: 'TXT' }, activatedAt: null },
    });
    const rsaRecord = rsa.body.dnsRecord.value as string;
    expect(rsaRecord).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
    // Over 255 characters: also given as zone-file strings of at most 255 that join back to the value.
    const strings = [...(rsa.body.dnsRecord.zoneFileValue as string).matchAll(/"([^"]*)"/g)].map((match) => match[1]!);
    expect([strings.length > 1, strings.every((part) => part.length <= 255), strings.join('')]).toEqual([true, true, rsaRecord]);
    const rsaPublic = createPublicKey({ key: Buffer.from(rsaRecord.split('p=')[1]!, 'base64'), format: 'der', type: 'spki' });
    expect([rsaPublic.asymmetricKeyType, rsaPublic.asymmetricKeyDetails?.modulusLength]).toEqual(['rsa', 2048]);

    const ed = await call('POST', keysPath(), keys.tenant, { algorithm: 'ed25519-sha256' });
    expect(ed).toMatchObject({ status: 201, body: { algorithm: 'ed25519-sha256', status: 'PENDING_DNS', selector: expect.stringMatching(/^mw\d{8}[0-9a-f]{4}$/) } });
    expect(Buffer.from((ed.body.dnsRecord.value as string).split('p=')[1]!, 'base64')).toHaveLength(32);

    expect(await call('POST', keysPath(), keys.tenant, { algorithm: 'rsa-sha1' })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'algorithm' })] } });
    for (const selector of ['bad_selector', '-lead', 'trail-', 'a..b', '', 'x'.repeat(64), 'sel;p=evil', 'é']) {
      const refused = await call('POST', keysPath(), keys.tenant, { selector });
      expect([selector, refused.status, refused.body.code, refused.body.errors?.[0]?.field]).toEqual([selector, 400, 'VALIDATION_FAILED', 'selector']);
    }
    // Long but valid labels whose record name would not fit in DNS.
    expect((await call('POST', keysPath(), keys.tenant, { selector: Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.') })).body).toMatchObject({ status: 400, errors: [{ field: 'selector', code: 'INVALID_SELECTOR' }] });
    expect(await call('POST', keysPath(), keys.tenant, { selector: 'mw2026' })).toMatchObject({ status: 409, body: { code: 'CONFLICT' } });
    expect(await call('POST', keysPath(accountId, unverifiedId), keys.tenant, {})).toMatchObject({ status: 409, body: { code: 'DOMAIN_NOT_VERIFIED' } });
    expect(await call('POST', keysPath(), keys.readOnly, {})).toMatchObject({ status: 403, body: { code: 'READ_ONLY_KEY' } });
    expect(await call('POST', keysPath(), keys.tenant, { selector: 'x', extra: 1 })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });

    const listed = await call('GET', `${keysPath()}?limit=1`, keys.readOnly);
    expect(listed.body.items.map((item: Json) => item.id)).toEqual([ed.body.id]);
    const second = await call('GET', `${keysPath()}?limit=1&cursor=${encodeURIComponent(listed.body.nextCursor as string)}`, keys.readOnly);
    expect(second.body).toMatchObject({ items: [{ id: rsa.body.id, dnsRecord: { value: rsaRecord } }], nextCursor: null });
  });

  it('should activate a key only when every DKIM record at its name is exactly the generated one', async () => {
    const created = await call('POST', keysPath(), keys.tenant, { selector: 'rotate1', algorithm: 'ed25519-sha256' });
    const key = created.body;
    const check = () => call('POST', `${keysPath()}/${key.id}/check?bypassCache=true`, keys.tenant);

    expect((await check()).body).toMatchObject({ matched: false, activated: false, txtRecords: [], dnsError: null, key: { status: 'PENDING_DNS' } });
    // A forged record (someone else's key at our selector) does not activate it.
    const forged = dkimDnsRecord(generateDkimKey('ed25519-sha256').privateKey);
    dns.zone['rotate1._domainkey.contoso.example'] = { TXT: [forged] };
    expect((await check()).body).toMatchObject({ matched: false, activated: false, txtRecords: [forged], key: { status: 'PENDING_DNS' } });
    // Nor does ours next to a forged one (a verifier could pick either), nor ours with another key type.
    dns.zone['rotate1._domainkey.contoso.example'] = { TXT: [key.dnsRecord.value, forged] };
    expect((await check()).body).toMatchObject({ matched: false, key: { status: 'PENDING_DNS' } });
    dns.zone['rotate1._domainkey.contoso.example'] = { TXT: [(key.dnsRecord.value as string).replace('k=ed25519', 'k=rsa')] };
    expect((await check()).body).toMatchObject({ matched: false, key: { status: 'PENDING_DNS' } });
    expect(await call('POST', `${keysPath()}/${key.id}/check`, keys.readOnly)).toMatchObject({ status: 403, body: { code: 'READ_ONLY_KEY' } });

    // Published as generated (whitespace and an unrelated TXT record at the name do not matter): ACTIVE.
    dns.zone['rotate1._domainkey.contoso.example'] = { TXT: ['google-site-verification=abc', (key.dnsRecord.value as string).replace(/; /g, ';  ')] };
    const activated = await check();
    expect(activated.body).toMatchObject({ matched: true, activated: true, key: { status: 'ACTIVE', activatedAt: expect.any(String) } });
    expect((await check()).body).toMatchObject({ matched: true, activated: false, key: { status: 'ACTIVE', activatedAt: activated.body.key.activatedAt } });

    // A DNS failure decides nothing.
    const port = Number(dns.server.split(':')[1]);
    await dns.stop();
    expect((await check()).body).toMatchObject({ matched: false, dnsError: expect.stringMatching(/^E[A-Z]+$/), key: { status: 'ACTIVE' } });
    await dns.start(port);

    const retired = await call('POST', `${keysPath()}/${key.id}/retire`, keys.tenant);
    expect(retired.body).toMatchObject({ status: 'RETIRED', retiredAt: expect.any(String) });
    expect((await call('POST', `${keysPath()}/${key.id}/retire`, keys.tenant)).body).toMatchObject({ status: 'RETIRED', retiredAt: retired.body.retiredAt });
    // A retired key never comes back, even with its record still published.
    dns.zone['rotate1._domainkey.contoso.example'] = { TXT: [key.dnsRecord.value] };
    expect((await call('POST', `${keysPath()}/${key.id}/check?bypassCache=true`, keys.tenant)).body).toMatchObject({ matched: true, activated: false, key: { status: 'RETIRED' } });

    const audit = await db.prisma.auditEvent.findMany({ where: { objectType: 'dkim_key', objectId: key.id }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual([
      'dkim_key.created',
      'dkim_key.checked',
      'dkim_key.checked',
      'dkim_key.checked',
      'dkim_key.checked',
      'dkim_key.activated',
      'dkim_key.checked',
      'dkim_key.checked',
      'dkim_key.retired',
      'dkim_key.checked',
    ]);
    expect(audit.every((event) => event.actor.includes('admin'))).toBe(true);
  });

  it("should answer 404 to another tenant for every DKIM route, and never let it reach the account's keys", async () => {
    const [first] = (await call('GET', keysPath(), keys.tenant)).body.items as Json[];
    const before = await db.prisma.dkimKey.findMany({ orderBy: { id: 'asc' } });
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', keysPath()],
      ['POST', keysPath(), {}],
      ['GET', `${keysPath()}/${first!.id}`],
      ['POST', `${keysPath()}/${first!.id}/check`],
      ['POST', `${keysPath()}/${first!.id}/retire`],
      // The other tenant's own domain with our key id: still not found.
      ['GET', `${keysPath(otherAccountId, otherDomainId)}/${first!.id}`],
      ['POST', `${keysPath(otherAccountId, otherDomainId)}/${first!.id}/retire`],
      ['POST', `${keysPath(otherAccountId, otherDomainId)}/${first!.id}/check`],
    ];
    for (const [method, path, body] of attempts) {
      const reply = await call(method, path, keys.other, body);
      expect(`${method} ${path} ${reply.status} ${String(reply.body.code)}`).toBe(`${method} ${path} 404 NOT_FOUND`);
    }
    // Our own key id under our other domain is not found either: a key belongs to its domain.
    expect((await call('GET', `${keysPath(accountId, unverifiedId)}/${first!.id}`, keys.tenant)).status).toBe(404);
    expect(await db.prisma.dkimKey.findMany({ orderBy: { id: 'asc' } })).toEqual(before);
    expect((await call('GET', keysPath(otherAccountId, otherDomainId), keys.other)).body).toEqual({ items: [], nextCursor: null });
  });

  it('should answer 503 SECRETS_KEY_NOT_CONFIGURED to key generation without a secrets key, after the tenant check, and still list keys', async () => {
    const config = loadConfig('admin-api', { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, DNS_SERVERS: dns.server });
    const bare = await createAdminApi(config, false);
    try {
      const url = await listenOnFreePort(bare);
      const post = (account: string, domain: string, key: string) =>
        fetch(`${url}/v1/accounts/${account}/domains/${domain}/dkim-keys`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
      const refused = await post(accountId, domainId, keys.tenant);
      expect([refused.status, ((await refused.json()) as Json).code]).toEqual([503, 'SECRETS_KEY_NOT_CONFIGURED']);
      expect((await post(accountId, domainId, keys.other)).status).toBe(404);
      const listed = await fetch(`${url}${keysPath()}`, { headers: { authorization: `Bearer ${keys.readOnly}` } });
      expect(((await listed.json()) as Json).items.length).toBeGreaterThan(0);
    } finally {
      await bare.close();
    }
  });

  it('should never show a private key in an answer, an audit entry or a log line', async () => {
    const rows = await db.prisma.dkimKey.findMany();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const cipher = new CredentialsCipher(TEST_SECRETS_KEY);
    const secrets = rows.flatMap((row) => {
      const { privateKey } = cipher.decrypt<{ privateKey: string }>(row.encryptedPrivateKey, dkimKeyCipherContext(row.id));
      expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const body = privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      // The whole body, every PEM line, and the ciphertext as stored.
      return [body, ...privateKey.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----')), row.encryptedPrivateKey];
    });
    // The ciphertext is bound to its own row: copied to another row it does not decrypt.
    expect(() => cipher.decrypt(rows[0]!.encryptedPrivateKey, dkimKeyCipherContext(rows[1]!.id))).toThrow();
    const audit = JSON.stringify(await db.prisma.auditEvent.findMany({ where: { objectType: 'dkim_key' } }), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const [where, text] of [['answers', responses.join('\n')], ['audit', audit], ['logs', logger.lines.join('\n')]] as const) {
      expect([where, /PRIVATE KEY|encryptedPrivateKey/.test(text)]).toEqual([where, false]);
      for (const secret of secrets) {
        expect([where, text.includes(secret)]).toEqual([where, false]);
      }
    }
  });
});
