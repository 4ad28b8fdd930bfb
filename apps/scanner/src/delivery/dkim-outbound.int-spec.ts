import { randomUUID } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { authenticate } from 'mailauth';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import type { Account, Domain } from '@mailwarden/db';
import { dkimKeyCipherContext, dkimRecordName, generateDkimKey, headerValues, type DkimAlgorithm } from '@mailwarden/delivery';
import { CredentialsCipher } from '@mailwarden/mimecast';
import { appTestEnv, createTestDatabase, createTestRedis, DnsTestServer, freePort, SmtpSink, TestFactories, waitFor, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createScanner } from '../scanner.app';
import { DeliveryService } from './delivery.service';

const HOST = 'mx.mailwarden.test';
const SECRETS_KEY = Buffer.alloc(32, 3).toString('base64');
const FABRIKAM_TENANT = '6d1e2f40-3b7c-4c2a-8f6e-91a0b3c4d5e6';
const FABRIKAM_STAMP = `X-MS-Exchange-CrossTenant-Id: ${FABRIKAM_TENANT}`;

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  error = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  warn = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  debug = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  verbose = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  fatal = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
}

jest.setTimeout(90_000);

/**
 * Issue 16: outbound DKIM signing. The tenant's own connector relays mail for outside recipients through the scanner
 * (here to OUTBOUND_SMART_HOST, an SmtpSink on 127.0.0.1); each copy is signed with the newest ACTIVE key of its
 * From domain, and the signature verifies with mailauth against the record a DnsTestServer publishes.
 */
describe(`${DeliveryService.name} outbound DKIM signing (RFC 6376)`, () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication;
  let smtpPort: number;
  let factories: TestFactories;
  const sink = new SmtpSink();
  const dns = new DnsTestServer({});
  const logger = new CapturingLogger();
  const cipher = new CredentialsCipher(SECRETS_KEY);
  const privateKeys: string[] = [];
  let verifier: Resolver;
  let contoso: Account;
  let contosoDomain: Domain;
  let fabrikamKeyId: string;

  /** A key as the admin API stores it (encrypted, bound to its id), its record published in the test DNS when asked. */
  async function addKey(account: Account, domain: Domain, selector: string, algorithm: DkimAlgorithm, status: 'PENDING_DNS' | 'ACTIVE', publish = true): Promise<string> {
    const generated = generateDkimKey(algorithm);
    privateKeys.push(generated.privateKey);
    const id = randomUUID();
    await db.prisma.dkimKey.create({
      data: {
        id,
        accountId: account.id,
        domainId: domain.id,
        selector,
        algorithm: algorithm === 'rsa-sha256' ? 'RSA_SHA256' : 'ED25519_SHA256',
        dnsRecord: generated.dnsRecord,
        encryptedPrivateKey: cipher.encrypt({ privateKey: generated.privateKey }, dkimKeyCipherContext(id)),
        status,
        activatedAt: status === 'ACTIVE' ? new Date() : null,
      },
    });
    if (publish) {
      dns.zone[dkimRecordName(selector, domain.name)] = { TXT: [generated.dnsRecord] };
    }
    return id;
  }

  async function send(from: string, to: string[], headerFrom: string, subject: string, extra: string[] = []): Promise<string> {
    const raw = Buffer.from(
      [...extra, `From: ${headerFrom}`, `To: ${to.join(', ')}`, `Subject: ${subject}`, `Message-ID: <${randomUUID()}@mail.example>`, 'Date: Sun, 06 Dec 2026 10:00:00 +0000', '', `Body of ${subject}.`, ''].join('\r\n'),
    );
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, name: 'tenant-connector.example' });
    try {
      return (await transport.sendMail({ envelope: { from, to }, raw })).response;
    } finally {
      transport.close();
    }
  }

  const received = (subject: string) =>
    waitFor(async () => {
      const copies = sink.received.filter((entry) => entry.raw.includes(subject));
      return copies.length > 0 && copies;
    }, `the copy of "${subject}"`, 20_000);
  const dkimOf = async (raw: Buffer, sender: string) => {
    const { dkim } = await authenticate(raw, { ip: '192.0.2.25', helo: 'mx.outside.example', sender, mta: 'mx.outside.example', resolver: ((name: string, rrtype: string) => verifier.resolve(name, rrtype)) as never });
    return dkim.results.map((result) => ({ domain: result.signingDomain, selector: result.selector, algo: result.algo, result: result.status.result, aligned: result.status.aligned }));
  };

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis(), dns.start()]);
    verifier = new Resolver({ timeout: 2_000, tries: 1 });
    verifier.setServers([dns.server]);
    factories = new TestFactories(db.prisma);
    smtpPort = await freePort();
    const sinkPort = await sink.start();

    // Tenant A: gateway mode, its own mail server relays outbound from 127.0.0.0/8.
    contoso = await factories.newAccount({ monitorOnly: false });
    contosoDomain = await factories.newDomain(contoso, { name: 'contoso.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sinkPort, downstreamVerifyCert: false });
    await db.prisma.mailflowConnector.create({ data: { accountId: contoso.id, sourceIps: ['127.0.0.0/8'] } });
    await addKey(contoso, contosoDomain, 'rsa1', 'rsa-sha256', 'ACTIVE');
    const pendingDomain = await factories.newDomain(contoso, { name: 'pending.example', mode: 'GATEWAY' });
    await addKey(contoso, pendingDomain, 'p1', 'rsa-sha256', 'PENDING_DNS');

    // Tenant B: Microsoft 365 mailflow, an Ed25519 key.
    const fabrikam = await factories.newAccount({ monitorOnly: false });
    const fabrikamDomain = await factories.newDomain(fabrikam, { name: 'fabrikam.example', mode: 'MAILFLOW' });
    await db.prisma.mailflowConnector.create({ data: { accountId: fabrikam.id, sourceIps: ['127.0.0.1/32'] } });
    fabrikamKeyId = await addKey(fabrikam, fabrikamDomain, 'ed1', 'ed25519-sha256', 'ACTIVE');
    // Connected to Microsoft 365: relayed mail must carry the tenant id Exchange Online stamps.
    await db.prisma.m365Connection.create({ data: { accountId: fabrikam.id, tenantId: FABRIKAM_TENANT, consentedAt: new Date(), consentedBy: 'test' } });

    // A key row of tenant A holding tenant B's ciphertext (a forged row): it must not decrypt, so nothing is signed.
    const forgedDomain = await factories.newDomain(contoso, { name: 'forged.example', mode: 'GATEWAY' });
    const forgedId = await addKey(contoso, forgedDomain, 'f1', 'ed25519-sha256', 'ACTIVE');
    const stolen = await db.prisma.dkimKey.findUniqueOrThrow({ where: { id: fabrikamKeyId } });
    await db.prisma.dkimKey.update({ where: { id: forgedId }, data: { encryptedPrivateKey: stolen.encryptedPrivateKey, dnsRecord: stolen.dnsRecord } });
    dns.zone[dkimRecordName('f1', 'forged.example')] = { TXT: [stolen.dnsRecord] };

    // Tenant C: its connector is elsewhere (192.0.2.0/24), so 127.0.0.1 may not relay for it.
    const outsider = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(outsider, { name: 'outsider.example', mode: 'GATEWAY' });
    await db.prisma.mailflowConnector.create({ data: { accountId: outsider.id, sourceIps: ['192.0.2.0/24'] } });

    const config = loadConfig('scanner', await appTestEnv(db, redis, {
      LOG_LEVEL: 'verbose',
      SMTP_HOSTNAME: HOST,
      SCANNER_SMTP_PORT: String(smtpPort),
      DNS_SERVERS: dns.server,
      DNS_TIMEOUT_MS: '2000',
      SECRETS_KEY,
      OUTBOUND_SMART_HOST: `127.0.0.1:${sinkPort}`,
      OUTBOUND_SMART_HOST_VERIFY_CERT: 'false',
    }));
    scanner = await createScanner(config, logger, { delivery: { initialRetryDelayMs: 300, maxRetryDelayMs: 1_000, timeoutMs: 5_000 } });
    await scanner.init();
  });

  afterAll(async () => {
    await scanner?.close();
    await sink.stop();
    await dns.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  it("should relay the tenant's outbound mail to the smart host, signed with its RSA key, and verifying with mailauth", async () => {
    expect(await send('alice@contoso.example', ['bob@outside.example'], 'Alice <alice@contoso.example>', 'Outbound RSA')).toMatch(/^250 /);
    const [copy] = await received('Outbound RSA');
    expect(copy!.to).toEqual(['bob@outside.example']);
    const [signature] = headerValues(copy!.raw, 'DKIM-Signature').map((value) => value.replace(/\s+/g, ' '));
    expect(signature).toMatch(/\ba=rsa-sha256;/);
    expect(signature).toMatch(/\bc=relaxed\/relaxed;/);
    expect(signature).toMatch(/\bd=contoso\.example;/);
    expect(signature).toMatch(/\bs=rsa1;/);
    expect(await dkimOf(copy!.raw, 'alice@contoso.example')).toEqual([{ domain: 'contoso.example', selector: 'rsa1', algo: 'rsa-sha256', result: 'pass', aligned: 'contoso.example' }]);
    const stored = await db.prisma.message.findFirstOrThrow({ where: { subject: 'Outbound RSA' } });
    expect([stored.direction, stored.source]).toEqual(['OUTBOUND', 'GATEWAY']);
  });

  it('should sign Microsoft 365 mailflow outbound mail with an Ed25519 key (RFC 8463) that mailauth verifies', async () => {
    expect(await send('dan@fabrikam.example', ['erin@outside.example', 'frank@elsewhere.example'], 'dan@fabrikam.example', 'Outbound Ed25519', [FABRIKAM_STAMP])).toMatch(/^250 /);
    const [copy] = await received('Outbound Ed25519');
    expect(copy!.to.sort()).toEqual(['erin@outside.example', 'frank@elsewhere.example']);
    expect(await dkimOf(copy!.raw, 'dan@fabrikam.example')).toEqual([{ domain: 'fabrikam.example', selector: 'ed1', algo: 'ed25519-sha256', result: 'pass', aligned: 'fabrikam.example' }]);
    expect((await db.prisma.message.findFirstOrThrow({ where: { subject: 'Outbound Ed25519' } })).source).toBe('MAILFLOW');
  });

  it('should sign with the newest active key after a rotation, and fall back to the older one when the newer is retired', async () => {
    const newer = await addKey(contoso, contosoDomain, 'rsa2', 'rsa-sha256', 'ACTIVE');
    await send('alice@contoso.example', ['bob@outside.example'], 'alice@contoso.example', 'After rotation');
    const [rotated] = await received('After rotation');
    expect(await dkimOf(rotated!.raw, 'alice@contoso.example')).toEqual([expect.objectContaining({ selector: 'rsa2', result: 'pass' })]);

    await db.prisma.dkimKey.update({ where: { id: newer }, data: { status: 'RETIRED', retiredAt: new Date() } });
    await send('alice@contoso.example', ['bob@outside.example'], 'alice@contoso.example', 'After retirement');
    const [fallback] = await received('After retirement');
    expect(await dkimOf(fallback!.raw, 'alice@contoso.example')).toEqual([expect.objectContaining({ selector: 'rsa1', result: 'pass' })]);
  });

  it('should relay unsigned what has no usable key: a pending key, a forged key row, another tenant\'s From domain', async () => {
    await send('alice@pending.example', ['bob@outside.example'], 'alice@pending.example', 'Pending key only');
    await send('alice@forged.example', ['bob@outside.example'], 'alice@forged.example', 'Forged key row');
    // Tenant B's connector, but a From of tenant A's domain: B may not sign as A.
    await send('dan@fabrikam.example', ['bob@outside.example'], 'alice@contoso.example', 'Another tenant From', [FABRIKAM_STAMP]);
    for (const subject of ['Pending key only', 'Forged key row', 'Another tenant From']) {
      const [copy] = await received(subject);
      expect([subject, headerValues(copy!.raw, 'DKIM-Signature')]).toEqual([subject, []]);
    }
    await waitFor(async () => logger.lines.some((line) => line.includes('delivery.dkim_not_signed') && line.includes('forged.example')), 'delivery.dkim_not_signed for forged.example');
  });

  it('should never sign inbound mail, even from the connector with a From of the tenant\'s domain', async () => {
    expect(await send('spoof@evil.example', ['carol@contoso.example'], 'alice@contoso.example', 'Inbound spoof')).toMatch(/^250 /);
    const [copy] = await received('Inbound spoof');
    expect(copy!.to).toEqual(['carol@contoso.example']);
    expect(headerValues(copy!.raw, 'DKIM-Signature')).toEqual([]);
    expect((await db.prisma.message.findFirstOrThrow({ where: { subject: 'Inbound spoof' } })).direction).toBe('INBOUND');
  });

  it('should refuse to relay for anyone but the tenant\'s connector and a verified sending domain (no open relay)', async () => {
    const refused = async (from: string) => {
      const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
      try {
        await transport.sendMail({ envelope: { from, to: ['bob@outside.example'] }, raw: Buffer.from('From: x@x.example\r\nSubject: relay probe\r\n\r\nx\r\n') });
        return 'accepted';
      } catch (error) {
        return String((error as { response?: string }).response);
      } finally {
        transport.close();
      }
    };
    expect(await refused('carl@outsider.example')).toMatch(/^550 5\.7\.1 Relay access denied/);
    expect(await refused('someone@unknown.example')).toMatch(/^550 5\.7\.1 Relay access denied/);
    expect(await refused('')).toMatch(/^550 5\.7\.1 Relay access denied/);
    expect(sink.received.filter((entry) => entry.raw.includes('relay probe'))).toEqual([]);
  });

  it("should refuse relaying for a Microsoft 365 tenant's domain what that tenant did not send (shared Microsoft address ranges)", async () => {
    const attempt = async (extra: string[], subject: string) => {
      try {
        return await send('dan@fabrikam.example', ['bob@outside.example'], 'dan@fabrikam.example', subject, extra);
      } catch (error) {
        return String((error as { response?: string }).response);
      }
    };
    expect(await attempt([], 'No tenant stamp')).toMatch(/^550 5\.7\.1 Relay access denied: not sent by the organisation's Microsoft 365 tenant/);
    expect(await attempt(['X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555'], 'Other tenant stamp')).toMatch(/^550 5\.7\.1/);
    expect(await attempt([FABRIKAM_STAMP, 'X-MS-Exchange-CrossTenant-Id: 11111111-2222-3333-4444-555555555555'], 'Two stamps')).toMatch(/^550 5\.7\.1/);
    expect(await attempt([FABRIKAM_STAMP.toUpperCase().replace('X-MS-EXCHANGE-CROSSTENANT-ID', 'X-MS-Exchange-CrossTenant-Id')], 'Own stamp')).toMatch(/^250 /);
    await received('Own stamp');
    expect(sink.received.filter((entry) => /No tenant stamp|Other tenant stamp|Two stamps/.test(entry.raw.toString()))).toEqual([]);
  });

  it('should write no private key into any log line', () => {
    expect(logger.lines.length).toBeGreaterThan(10);
    const text = logger.lines.join('\n');
    expect(text).not.toMatch(/PRIVATE KEY/);
    for (const key of privateKeys) {
      for (const line of key.split('\n').filter((part) => part.length >= 40 && !part.startsWith('-----'))) {
        expect(text.includes(line)).toBe(false);
      }
    }
  });
});
