import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { authenticate } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import { dkimDnsRecord, dkimRecordName, headerValues, sealCopy, type ArcSealingKey } from '@mailwarden/delivery';
import { summarizeMessageHeaders } from '@mailwarden/journal';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { appTestEnv, createTestDatabase, createTestRedis, freePort, SmtpSink, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createScanner } from '../scanner.app';
import { DeliveryService } from './delivery.service';

const HOST = 'mx.mailwarden.test';
const pem = (type: 'rsa' | 'ed25519') =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value && !(Array.isArray(value) && value.length === 0)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

jest.setTimeout(60_000);

describe(`${DeliveryService.name} ARC sealing (RFC 8617)`, () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication;
  let smtpPort: number;
  const sink = new SmtpSink();
  const dir = mkdtempSync(path.join(tmpdir(), 'mw-arc-'));
  // The first hop: a forwarder (a mailing list, another gateway) that sealed the message before it reached us.
  const forwarder: ArcSealingKey = { domain: 'forwarder.example', selector: 'fwd', privateKey: pem('rsa') };
  const mailwarden: ArcSealingKey = { domain: 'mailwarden.test', selector: 'arc2026', privateKey: pem('rsa') };
  const senderKey = pem('rsa');

  const zone = new ZoneDnsResolver({
    'sender.example': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.sender.example': { TXT: ['v=DMARC1; p=none'] },
    [dkimRecordName('s1', 'sender.example')]: { TXT: [dkimDnsRecord(senderKey)] },
    [dkimRecordName(forwarder.selector, forwarder.domain)]: { TXT: [dkimDnsRecord(forwarder.privateKey)] },
    [dkimRecordName(mailwarden.selector, mailwarden.domain)]: { TXT: [dkimDnsRecord(mailwarden.privateKey)] },
  });
  const resolver = (name: string, rrtype: string) => zone.resolve(name, rrtype);
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  /** A message whose DKIM signature fails (body changed after signing: Mailwarden tags it), then sealed i=1 by the forwarder. */
  async function forwardedMessage(subject: string, breakChainAfterSealing = false): Promise<Buffer> {
    const raw = Buffer.from(
      ['From: alice@sender.example', 'To: carol@acme.example', `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@sender.example>`, 'Date: Sat, 05 Dec 2026 10:00:00 +0000', '', 'Hello from the sender.', ''].join('\r\n'),
    );
    const signed = await dkimSign(raw, { canonicalization: 'relaxed/relaxed', signatureData: [{ signingDomain: 'sender.example', selector: 's1', privateKey: senderKey }] } as never);
    const tampered = Buffer.from(Buffer.concat([Buffer.from(signed.signatures), raw]).toString('latin1').replace('Hello', 'Hellp'), 'latin1');
    const sealed = await sealCopy(tampered, forwarder, { authservId: 'mx.forwarder.example', checks: [{ check: 'dkim', status: 'fail' }], chain: 'none' });
    expect(sealed.instance).toBe(1);
    return breakChainAfterSealing ? Buffer.from(sealed.raw.toString('latin1').replace('Hellp', 'Hallo'), 'latin1') : sealed.raw;
  }

  async function send(raw: Buffer, to: string[]): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, name: 'client.sender.example' });
    try {
      return (await transport.sendMail({ envelope: { from: 'alice@sender.example', to }, raw })).response;
    } finally {
      transport.close();
    }
  }

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    const factories = new TestFactories(db.prisma);
    smtpPort = await freePort();
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: await sink.start(), downstreamVerifyCert: false });

    const keyFile = path.join(dir, 'arc.pem');
    writeFileSync(keyFile, mailwarden.privateKey);
    const config = loadConfig('scanner', await appTestEnv(db, redis, {
      SMTP_HOSTNAME: HOST,
      SCANNER_SMTP_PORT: String(smtpPort),
      ARC_SEAL_DOMAIN: mailwarden.domain,
      ARC_SEAL_SELECTOR: mailwarden.selector,
      ARC_SEAL_KEY_FILE: keyFile,
    }));
    scanner = await createScanner(config, false, { dnsLookup, delivery: { initialRetryDelayMs: 300, maxRetryDelayMs: 1_000, timeoutMs: 5_000 } });
    await scanner.init();
  });

  afterAll(async () => {
    await scanner?.close();
    await sink.stop();
    await redis?.cleanup();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should relay a tagged message with an i=2 set (cv=pass) over the forwarder set that mailauth validates', async () => {
    const raw = await forwardedMessage('Quarterly report');
    expect(await send(raw, ['carol@acme.example'])).toMatch(/^250 /);
    const [delivered] = await waitFor(() => sink.to('carol@acme.example').filter((entry) => entry.raw.includes('Quarterly report')));
    const copy = delivered!.raw;
    expect(summarizeMessageHeaders(copy).subject).toBe('[SUSPICIOUS] Quarterly report');

    // Our set is on top, made after the tagging, and says the chain we received was valid.
    const seals = headerValues(copy, 'ARC-Seal').map((value) => value.replace(/\s+/g, ' '));
    expect(seals).toHaveLength(2);
    expect(seals[0]).toMatch(/^i=2; a=rsa-sha256; .*cv=pass; d=mailwarden\.test; s=arc2026;/);
    expect(seals[1]).toMatch(/^i=1; .*cv=none; d=forwarder\.example; s=fwd;/);
    const aar = headerValues(copy, 'ARC-Authentication-Results').map((value) => value.replace(/\s+/g, ' '));
    expect(aar[0]).toBe(`i=2; ${HOST}; dmarc=pass (p=none) header.from=sender.example; spf=pass smtp.mailfrom=alice@sender.example; dkim=fail header.d=sender.example header.s=s1; arc=pass`);

    // The next hop (Microsoft 365, trusting mailwarden.test as an ARC sealer) validates the whole chain.
    const { arc } = await authenticate(copy, { ip: '127.0.0.1', helo: HOST, sender: 'alice@sender.example', mta: 'mx.acme.example', resolver: resolver as never });
    expect((arc as Exclude<typeof arc, false>).status.result).toBe('pass');
    expect((arc as Exclude<typeof arc, false>).i).toBe(2);
  });

  it('should say cv=fail when the chain it received was broken, and the next hop sees the chain fail', async () => {
    const raw = await forwardedMessage('Broken chain', true);
    expect(await send(raw, ['carol@acme.example'])).toMatch(/^250 /);
    const [delivered] = await waitFor(() => sink.to('carol@acme.example').filter((entry) => entry.raw.includes('Broken chain')));
    const seals = headerValues(delivered!.raw, 'ARC-Seal').map((value) => value.replace(/\s+/g, ' '));
    expect(seals[0]).toMatch(/^i=2; .*cv=fail; d=mailwarden\.test;/);
    expect(headerValues(delivered!.raw, 'ARC-Authentication-Results')[0]).toMatch(/arc=fail$/);
    const { arc } = await authenticate(delivered!.raw, { ip: '127.0.0.1', helo: HOST, sender: 'alice@sender.example', mta: 'mx.acme.example', resolver: resolver as never });
    expect((arc as Exclude<typeof arc, false>).status.result).toBe('fail');
  });

  it('should seal a message that arrived without a chain as i=1 with cv=none', async () => {
    const raw = Buffer.from(['From: alice@sender.example', 'To: carol@acme.example', 'Subject: First hop', 'Message-ID: <firsthop@sender.example>', '', 'Plain.', ''].join('\r\n'));
    expect(await send(raw, ['carol@acme.example'])).toMatch(/^250 /);
    const [delivered] = await waitFor(() => sink.to('carol@acme.example').filter((entry) => entry.raw.includes('First hop')));
    expect(headerValues(delivered!.raw, 'ARC-Seal').map((value) => value.replace(/\s+/g, ' '))).toEqual([expect.stringMatching(/^i=1; .*cv=none; d=mailwarden\.test;/)]);
    const { arc } = await authenticate(delivered!.raw, { ip: '127.0.0.1', helo: HOST, sender: 'alice@sender.example', mta: 'mx.acme.example', resolver: resolver as never });
    expect((arc as Exclude<typeof arc, false>).status.result).toBe('pass');
  });
});
