import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { generateKeyPairSync } from 'node:crypto';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import { DeliveryRepository, type Account, type Domain } from '@mailwarden/db';
import { QuickTestService } from '@mailwarden/delivery';
import { hasBareCrOrLf, summarizeMessageHeaders } from '@mailwarden/journal';
import { readProcessedMarks } from '@mailwarden/delivery';
import { DeliveryJob, QueueName, releaseDeliveryJobId } from '@mailwarden/queue';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { appTestEnv, createTestDatabase, createTestRedis, freePort, proxiedDatabaseUrl, RawSmtp, SmtpSink, TestFactories, type TcpProxy, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { DeliverySweeperService } from '../delivery/delivery-sweeper.service';
import { createScanner } from '../scanner.app';
import { GatewaySmtpServer } from './gateway-smtp.server';

const HOST = 'mx.mailwarden.test';
const CONNECTOR = '127.0.0.4';

async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    // An empty list is "not yet".
    if (value && !(Array.isArray(value) && value.length === 0)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A private CA and client certificates made with the openssl CLI: the connector's and a stranger's. */
function makeCertificates(): { ca: string; connector: { key: string; cert: string }; stranger: { key: string; cert: string } } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mw-gateway-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  try {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Mailwarden Test CA', '-days', '2');
    const issue = (name: string, cn: string, signed: boolean) => {
      run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      if (signed) {
        run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2');
      } else {
        run('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-out', `${name}.pem`, '-days', '2');
      }
      return { key: readFileSync(path.join(dir, `${name}.key`), 'utf8'), cert: readFileSync(path.join(dir, `${name}.pem`), 'utf8') };
    };
    return {
      ca: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
      connector: issue('connector', 'mail.protection.outlook.test', true),
      // Same name, but not issued by a trusted CA: must not count.
      stranger: issue('stranger', 'mail.protection.outlook.test', false),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function message(fields: { from: string; to: string; subject: string; body?: string; extraHeaders?: string[] }): Buffer {
  return Buffer.from(
    [
      ...(fields.extraHeaders ?? []),
      `From: ${fields.from}`,
      `To: ${fields.to}`,
      `Subject: ${fields.subject}`,
      `Message-ID: <${Math.random().toString(36).slice(2)}@sender.example>`,
      'Date: Wed, 25 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      fields.body ?? 'Hello from the gateway test.',
      '',
    ].join('\r\n'),
  );
}

jest.setTimeout(60_000);

describe(GatewaySmtpServer.name, () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let factories: TestFactories;
  let scanner: INestApplication;
  let smtpPort: number;
  const sink = new SmtpSink();
  let account: Account;
  let acme: Domain;
  const dkimKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificates = makeCertificates();

  const zone = new ZoneDnsResolver({
    'sender.example': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.sender.example': { TXT: ['v=DMARC1; p=none'] },
    's1._domainkey.sender.example': { TXT: [`v=DKIM1; k=rsa; p=${dkimKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`] },
    'evil.example': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'bank.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject'] },
    'acme.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    'far.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'flow.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
  });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  /** `localAddress`: another loopback address (127.0.0.4 is the tenant's connector). */
  async function send(raw: Buffer, envelope: { from: string; to: string[] }, localAddress = '127.0.0.1'): Promise<{ response: string; accepted: string[] }> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, name: 'client.sender.example', localAddress });
    try {
      const info = await transport.sendMail({ envelope, raw });
      return { response: info.response, accepted: info.accepted as string[] };
    } finally {
      transport.close();
    }
  }

  async function sendExpectingError(raw: Buffer, envelope: { from: string; to: string[] }, localAddress?: string): Promise<{ responseCode?: number; response?: string }> {
    try {
      await send(raw, envelope, localAddress);
    } catch (error) {
      return error as { responseCode?: number; response?: string };
    }
    throw new Error('expected the gateway to refuse the message');
  }

  async function signedDkimMessage(fields: Parameters<typeof message>[0]): Promise<Buffer> {
    const raw = message(fields);
    const privateKey = dkimKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = await dkimSign(raw, { signingDomain: 'sender.example', selector: 's1', privateKey, canonicalization: 'relaxed/relaxed', signatureData: [{ signingDomain: 'sender.example', selector: 's1', privateKey }] });
    // Change the body after signing: the signature is present and fails (body hash), as a tampered message's would.
    return Buffer.from(Buffer.concat([Buffer.from(signed.signatures), raw]).toString('latin1').replace('Hello', 'Hellp'), 'latin1');
  }

  const storedMessage = (subject: string) => db.prisma.message.findFirst({ where: { accountId: account.id, subject }, include: { verdicts: true } });
  const copies = (messageId: string) => db.prisma.recipientDelivery.findMany({ where: { messageId }, orderBy: { recipient: 'asc' } });

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    factories = new TestFactories(db.prisma);
    await sink.start();
    smtpPort = await freePort();

    account = await factories.newAccount({ monitorOnly: false });
    acme = await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    // The sink's certificate is self-signed: TLS stays required, the certificate check is turned off for this domain.
    await db.prisma.domain.update({ where: { id: acme.id }, data: { downstreamVerifyCert: false } });
    const vip = await db.prisma.user.create({ data: { accountId: account.id, email: 'vip@acme.example' } });
    await db.prisma.policy.create({
      data: { kind: 'EMAIL_SECURITY', scope: 'USER', accountId: account.id, scopeId: vip.id, settings: { senderChecks: { dkim: { enabled: true, action: 'QUARANTINE' } } } },
    });
    const strict = await db.prisma.user.create({ data: { accountId: account.id, email: 'strict@acme.example' } });
    await db.prisma.policy.create({
      data: { kind: 'EMAIL_SECURITY', scope: 'USER', accountId: account.id, scopeId: strict.id, settings: { senderChecks: { dkim: { enabled: true, action: 'REJECT' } } } },
    });
    const flow = await factories.newDomain(account, { name: 'flow.example', mode: 'MAILFLOW', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    await db.prisma.domain.update({ where: { id: flow.id }, data: { downstreamVerifyCert: false } });
    // The tenant's Microsoft 365 connector: the test client plays it from 127.0.0.4.
    await db.prisma.mailflowConnector.create({ data: { accountId: account.id, sourceIps: ['127.0.0.4/32'], tlsCertName: 'mail.protection.outlook.test' } });

    const other = await factories.newAccount({ monitorOnly: false });
    const farflow = await factories.newDomain(other, { name: 'farflow.example', mode: 'MAILFLOW', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    await db.prisma.mailflowConnector.create({ data: { accountId: other.id, sourceIps: ['203.0.113.0/24'] } });
    expect(farflow.mode).toBe('MAILFLOW');
    const watched = await factories.newAccount({ monitorOnly: true });
    await factories.newDomain(watched, { name: 'watched.example', mode: 'JOURNAL' });
    await factories.newDomain(account, { name: 'pending.example', mode: 'GATEWAY', verified: false, downstreamHost: '127.0.0.1', downstreamPort: sink.port });

    const config = loadConfig('scanner', await appTestEnv(db, redis, {
      SMTP_HOSTNAME: HOST,
      SMTP_MAX_MESSAGE_SIZE: '64kb',
      SCANNER_SMTP_PORT: String(smtpPort),
    }));
    scanner = await createScanner(config, false, {
      dnsLookup,
      smtp: { drainTimeoutMs: 5_000, tlsClientCa: certificates.ca },
      delivery: { initialRetryDelayMs: 300, maxRetryDelayMs: 1_000, timeoutMs: 5_000, dsnRoute: { host: '127.0.0.1', port: sink.port, requireTls: false, verifyCert: false } },
    });
    await scanner.init();
  });

  afterAll(async () => {
    await scanner?.close();
    await sink.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should relay a clean message to the downstream unchanged except for the trace headers', async () => {
    const raw = message({ from: 'alice@sender.example', to: 'bob@acme.example', subject: 'clean one' });
    const { response } = await send(raw, { from: 'alice@sender.example', to: ['bob@acme.example'] });
    expect(response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-f-]{36}$/);

    const [delivered] = await waitFor(async () => sink.to('bob@acme.example').filter((entry) => entry.raw.includes('clean one')));
    const text = delivered!.raw.toString('latin1');
    const bodyStart = text.indexOf('From: alice@sender.example');
    expect(text.slice(bodyStart)).toBe(raw.toString('latin1'));
    const trace = text.slice(0, bodyStart).replace(/\r\n(?=[ \t])/g, '');
    // Every relayed copy carries the processed mark, so a journal copy or a connector round trip is not scanned again.
    const stored0 = await storedMessage('clean one');
    expect(readProcessedMarks(delivered!.raw)).toEqual([{ host: HOST, messageId: stored0!.id }]);
    expect(trace.replace(/^X-Mailwarden-Processed: [^\r]*\r\n/, '')).toMatch(/^Received: from client\.sender\.example \(\[127\.0\.0\.1\]\) by mx\.mailwarden\.test \(Mailwarden\) with ESMTPS id [0-9a-f-]{36} for <bob@acme\.example>; .+\r\n/);
    expect(trace).toContain('Authentication-Results: mx.mailwarden.test; dmarc=pass (p=none) header.from=sender.example; spf=pass smtp.mailfrom=alice@sender.example');
    expect(delivered!.from).toBe('alice@sender.example');

    const stored = await waitFor(async () => {
      const row = await storedMessage('clean one');
      return row?.deliveryState === 'DELIVERED' ? row : null;
    });
    expect(stored.source).toBe('GATEWAY');
    expect(stored.verdicts.map((verdict) => [verdict.recipient, verdict.decidedAction, verdict.appliedAction])).toEqual([['bob@acme.example', 'DELIVER', 'DELIVER']]);
  });

  it('should refuse a DMARC p=reject spoof with 550 5.7.26 before answering DATA and deliver nothing', async () => {
    const before = sink.received.length;
    const error = await sendExpectingError(message({ from: 'ceo@bank.example', to: 'bob@acme.example', subject: 'wire transfer' }), { from: 'mallory@evil.example', to: ['bob@acme.example'] });
    expect(error.responseCode).toBe(550);
    expect(error.response).toMatch(/^550 5\.7\.26 Message rejected by policy: .*dmarc/);
    const stored = await storedMessage('wire transfer');
    expect(stored?.deliveryState).toBe('REJECTED');
    expect(stored?.verdicts[0]?.failedCheck).toBe('dmarc');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sink.received.length).toBe(before);
  });

  it('should scan an outside message that claims the tenant own domain instead of waving it through as internal', async () => {
    const error = await sendExpectingError(message({ from: 'ceo@acme.example', to: 'bob@acme.example', subject: 'own domain spoof' }), { from: 'ceo@acme.example', to: ['bob@acme.example'] }, '127.0.0.9');
    expect(error.response).toMatch(/^550 5\.7\.23 Message rejected by policy: spf=fail/);
    const stored = await storedMessage('own domain spoof');
    expect(stored?.direction).toBe('INBOUND');
    expect(stored?.scanStatus).toBe('SCANNED');
  });

  it('should split a message whose recipients have different policies: tag for one, quarantine for the other', async () => {
    const raw = await signedDkimMessage({ from: 'alice@sender.example', to: 'carol@acme.example, vip@acme.example', subject: 'Quarterly report' });
    const { response } = await send(raw, { from: 'alice@sender.example', to: ['carol@acme.example', 'vip@acme.example'] });
    expect(response).toMatch(/^250 /);

    const [tagged] = await waitFor(async () => sink.to('carol@acme.example'));
    expect(summarizeMessageHeaders(tagged!.raw).subject).toBe('[SUSPICIOUS] Quarterly report');
    expect(tagged!.to).toEqual(['carol@acme.example']);
    expect(tagged!.raw.toString('latin1').replace(/\r\n(?=[ \t])/g, '')).toMatch(/dkim=fail header\.d=sender\.example header\.s=s1/);

    const stored = await waitFor(async () => {
      const row = await storedMessage('Quarterly report');
      return row?.deliveryState === 'DELIVERED' ? row : null;
    });
    expect(Object.fromEntries(stored.verdicts.map((verdict) => [verdict.recipient, verdict.appliedAction]))).toEqual({ 'carol@acme.example': 'TAG_SUBJECT', 'vip@acme.example': 'QUARANTINE' });
    expect((await copies(stored.id)).map((copy) => [copy.recipient, copy.state])).toEqual([
      ['carol@acme.example', 'DELIVERED'],
      ['vip@acme.example', 'QUARANTINED'],
    ]);
    const held = await db.prisma.quarantineItem.findMany({ where: { messageId: stored.id } });
    expect(held.map((item) => [item.recipient, item.status, item.enforced])).toEqual([['vip@acme.example', 'HELD', true]]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sink.to('vip@acme.example')).toHaveLength(0);

    // The emergency inbox lists it for the quarantined mailbox too (it is stored, whatever happened downstream).
    const inbox = await scanner.get(DeliveryRepository).listEmergencyInbox(account.id, 'vip@acme.example', 14);
    expect(inbox.map((entry) => entry.id)).toContain(stored.id);
  });

  it('should accept with 250 when only some recipients are rejected, record the rejection and give them no copy', async () => {
    const raw = await signedDkimMessage({ from: 'alice@sender.example', to: 'hank@acme.example, strict@acme.example', subject: 'Half rejected' });
    const { response } = await send(raw, { from: 'alice@sender.example', to: ['hank@acme.example', 'strict@acme.example'] });
    expect(response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-f-]{36}; 1 recipient\(s\) refused by policy$/);
    await waitFor(async () => sink.to('hank@acme.example'));
    const stored = (await storedMessage('Half rejected'))!;
    // The sink has the copy a moment before the delivery worker records DELIVERED: wait for that update.
    const settled = await waitFor(async () => {
      const rows = await copies(stored.id);
      return rows.some((copy) => copy.state === 'QUEUED') ? null : rows;
    });
    expect(settled.map((copy) => [copy.recipient, copy.action, copy.state])).toEqual([
      ['hank@acme.example', 'TAG_SUBJECT', 'DELIVERED'],
      ['strict@acme.example', 'REJECT', 'REJECTED'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sink.to('strict@acme.example')).toHaveLength(0);
    // No bounce either: the sender was told nothing false, and no backscatter is produced.
    expect(sink.to('alice@sender.example').filter((entry) => entry.raw.includes('Half rejected'))).toHaveLength(0);
  });

  it('should deliver a released quarantine item with the release job, once', async () => {
    const stored = (await storedMessage('Quarterly report'))!;
    const item = (await db.prisma.quarantineItem.findFirst({ where: { messageId: stored.id } }))!;
    await db.prisma.quarantineItem.update({ where: { id: item.id }, data: { status: 'RELEASED', releasedAt: new Date() } });
    const queue = new Queue(QueueName.Delivery, { connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port || 6379) }, prefix: redis.prefix });
    try {
      await queue.add(DeliveryJob.name, { messageId: stored.id, recipients: ['vip@acme.example'], quarantineItemId: item.id }, { jobId: releaseDeliveryJobId(item.id) });
      const [released] = await waitFor(async () => sink.to('vip@acme.example'));
      expect(summarizeMessageHeaders(released!.raw).subject).toBe('Quarterly report');
      // A second job for the same release (at-least-once) delivers nothing more.
      await queue.add(DeliveryJob.name, { messageId: stored.id, recipients: ['vip@acme.example'], quarantineItemId: item.id }, { jobId: `${releaseDeliveryJobId(item.id)}-again` });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(sink.to('vip@acme.example')).toHaveLength(1);
    } finally {
      await queue.close();
    }
  });

  it('should refuse recipients of foreign, unverified and monitor-only domains with 5xx (no open relay)', async () => {
    const { client } = await RawSmtp.open(smtpPort);
    try {
      expect(await client.command('EHLO client.sender.example')).toMatch(/^250/);
      expect(await client.command('MAIL FROM:<alice@sender.example>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<victim@elsewhere.example>')).toMatch(/^550 5\.7\.1 Relay access denied: elsewhere\.example is not a verified domain/);
      expect(await client.command('RCPT TO:<someone@pending.example>')).toMatch(/^550 5\.7\.1 /);
      expect(await client.command('RCPT TO:<someone@watched.example>')).toMatch(/^550 5\.7\.1 Relay access denied: watched\.example is in monitor-only \(journal\) mode/);
      // A MAILFLOW domain only takes mail from its tenant's connector (here 203.0.113.0/24; we are 127.0.0.1).
      expect(await client.command('RCPT TO:<someone@farflow.example>')).toMatch(/^550 5\.7\.1 .*Microsoft 365 connector only/);
      // Nor does the tenant's own MAILFLOW domain take mail from outside its connector (127.0.0.4).
      expect(await client.command('RCPT TO:<erin@flow.example>')).toMatch(/^550 5\.7\.1 .*Microsoft 365 connector only/);
      expect(await client.command('DATA')).toMatch(/^503/);
      expect(await client.command('QUIT')).toMatch(/^221/);
    } finally {
      client.close();
    }
  });

  it('should take a domain in transition on both its old and new path, answer 4xx (never 5xx) on any other, and mark what it relays', async () => {
    const create = async (name: string, mode: 'GATEWAY' | 'MAILFLOW' | 'JOURNAL', transitionMode: 'GATEWAY' | 'MAILFLOW' | 'JOURNAL') => {
      const row = await factories.newDomain(account, { name, mode, downstreamHost: '127.0.0.1', downstreamPort: sink.port });
      await db.prisma.domain.update({ where: { id: row.id }, data: { transitionMode, downstreamVerifyCert: false } });
    };
    // Gateway -> Mailflow before the switch, and Advanced -> monitor-only after it (mailflow domain now JOURNAL).
    await create('g2m.example', 'GATEWAY', 'MAILFLOW');
    await create('m2j.example', 'JOURNAL', 'MAILFLOW');
    const { client } = await RawSmtp.open(smtpPort, '127.0.0.9');
    try {
      expect(await client.command('EHLO client.sender.example')).toMatch(/^250/);
      expect(await client.command('MAIL FROM:<alice@sender.example>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<x@m2j.example>')).toMatch(/^450 4\.7\.1 m2j\.example receives mail through its Microsoft 365 connector only; it is moving between modes/);
      expect(await client.command('RCPT TO:<x@g2m.example>')).toMatch(/^250/);
      expect(await client.command('QUIT')).toMatch(/^221/);
    } finally {
      client.close();
    }
    // Through the MX (old path) and through the connector (new path): both accepted and relayed with the mark that
    // tells the other path (the connector coming back, a journal copy) the message was scanned already.
    await send(message({ from: 'alice@sender.example', to: 'gina@g2m.example', subject: 'overlap via mx' }), { from: 'alice@sender.example', to: ['gina@g2m.example'] }, '127.0.0.9');
    await send(message({ from: 'alice@sender.example', to: 'mia@m2j.example', subject: 'overlap via connector' }), { from: 'alice@sender.example', to: ['mia@m2j.example'] }, CONNECTOR);
    const [viaMx] = await waitFor(async () => sink.to('gina@g2m.example'));
    const [viaConnector] = await waitFor(async () => sink.to('mia@m2j.example'));
    expect(readProcessedMarks(viaMx!.raw)).toEqual([{ host: HOST, messageId: (await storedMessage('overlap via mx'))!.id }]);
    expect(readProcessedMarks(viaConnector!.raw)).toHaveLength(1);
    expect((await storedMessage('overlap via mx'))!.source).toBe('GATEWAY');
    expect((await storedMessage('overlap via connector'))!.source).toBe('MAILFLOW');
  });

  it('should refuse an oversized message with 552 5.3.4', async () => {
    const { client } = await RawSmtp.open(smtpPort);
    try {
      await client.command('EHLO client.sender.example');
      await client.command('MAIL FROM:<alice@sender.example>');
      expect(await client.command('RCPT TO:<bob@acme.example>')).toMatch(/^250/);
      expect(await client.command('DATA')).toMatch(/^354/);
      client.write(message({ from: 'alice@sender.example', to: 'bob@acme.example', subject: 'too big', body: 'x'.repeat(76).concat('\r\n').repeat(1_000) }));
      expect(await client.command('.')).toMatch(/^552 5\.3\.4 /);
    } finally {
      client.close();
    }
    expect(await storedMessage('too big')).toBeNull();
  });

  it('should not let a bare-LF smuggled end of data start a second message, and relay it normalised', async () => {
    const { client } = await RawSmtp.open(smtpPort);
    try {
      await client.command('EHLO client.sender.example');
      await client.command('MAIL FROM:<alice@sender.example>');
      await client.command('RCPT TO:<dave@acme.example>');
      expect(await client.command('DATA')).toMatch(/^354/);
      client.write(
        'From: alice@sender.example\r\nTo: dave@acme.example\r\nSubject: smuggle carrier\r\n\r\nhello\n.\nMAIL FROM:<mallory@evil.example>\nRCPT TO:<dave@acme.example>\nDATA\nSubject: smuggled\n\nevil\n.\r\n',
      );
      // Only CRLF.CRLF ends DATA: exactly one reply, for one message.
      expect(await client.command('.')).toMatch(/^250 /);
      expect(await client.command('QUIT')).toMatch(/^221/);
    } finally {
      client.close();
    }
    const [relayed] = await waitFor(async () => sink.to('dave@acme.example'));
    expect(hasBareCrOrLf(relayed!.raw)).toBe(false);
    expect(relayed!.raw.toString('latin1')).toContain('hello\r\n.\r\nMAIL FROM:<mallory@evil.example>\r\nRCPT TO:<dave@acme.example>\r\nDATA\r\nSubject: smuggled\r\n');
    expect(await db.prisma.message.count({ where: { accountId: account.id, envelopeTo: { has: 'dave@acme.example' } } })).toBe(1);
    expect(await db.prisma.message.count({ where: { subject: 'smuggled' } })).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.to('dave@acme.example')).toHaveLength(1);
  });

  it('should mark mailflow copies for Microsoft 365 and relay a returning processed copy without a second scan', async () => {
    const raw = message({ from: 'alice@sender.example', to: 'erin@flow.example', subject: 'mailflow one' });
    await send(raw, { from: 'alice@sender.example', to: ['erin@flow.example'] }, CONNECTOR);
    const [first] = await waitFor(async () => sink.to('erin@flow.example'));
    const marks = readProcessedMarks(first!.raw);
    const original = await storedMessage('mailflow one');
    expect(original?.source).toBe('MAILFLOW');
    expect(marks).toEqual([{ host: HOST, messageId: original!.id }]);

    // The same copy comes back from the tenant's connector (a transport rule without the exception).
    await send(first!.raw, { from: 'alice@sender.example', to: ['erin@flow.example'] }, CONNECTOR);
    await waitFor(async () => sink.to('erin@flow.example').length === 2);
    const again = await db.prisma.message.findMany({ where: { accountId: account.id, subject: 'mailflow one' }, orderBy: { receivedAt: 'asc' }, include: { verdicts: true } });
    expect(again).toHaveLength(2);
    expect(again[1]!.scanStatus).toBe('SKIPPED');
    expect(again[1]!.verdicts[0]!.skippedReason).toBe('already-processed');
    expect(readProcessedMarks(sink.to('erin@flow.example')[1]!.raw)).toHaveLength(2);
  });
  it('should check SPF of mailflow traffic against the hop where it entered Microsoft 365, not the connector', async () => {
    const received = 'Received: from mail.far.example (mail.far.example [192.0.2.55]) by DM6NAM11FT012.mail.protection.outlook.com (10.13.173.1) with Microsoft SMTP Server; Wed, 25 Nov 2026 09:59:58 +0000';
    // far.example allows 192.0.2.0/24 only: against the connector's address (127.0.0.1) SPF would fail and reject.
    const { response } = await send(message({ from: 'x@far.example', to: 'erin@flow.example', subject: 'via exchange online', extraHeaders: [received] }), { from: 'x@far.example', to: ['erin@flow.example'] }, CONNECTOR);
    expect(response).toMatch(/^250 /);
    const stored = await storedMessage('via exchange online');
    const spf = (stored!.verdicts[0]!.checks as Array<{ check: string; status: string; evidence?: { clientIp?: string } }>).find((check) => check.check === 'spf');
    expect(spf).toMatchObject({ status: 'pass', evidence: { clientIp: '192.0.2.55' } });
    expect(stored!.clientIp).toBe(CONNECTOR);

    // From outside the connector the same message is checked against its real client and refused.
    const refused = await sendExpectingError(message({ from: 'x@far.example', to: 'bob@acme.example', subject: 'not via exchange online', extraHeaders: [received] }), { from: 'x@far.example', to: ['bob@acme.example'] }, '127.0.0.9');
    expect(refused.response).toMatch(/^550 5\.7\.23 /);
  });

  it('should scan mailflow traffic that entered Microsoft 365 from outside as INBOUND even when it claims the tenant own domain', async () => {
    // Exchange Online's edge recorded an outside client: the own-domain sender is a claim, not evidence (issue 13 §1).
    const edge = 'Received: from mx.evil.example (mx.evil.example [192.0.2.77]) by DM6NAM11FT012.mail.protection.outlook.com (10.13.173.1) with Microsoft SMTP Server; Wed, 25 Nov 2026 09:59:58 +0000';
    const refused = await sendExpectingError(
      message({ from: 'ceo@flow.example', to: 'erin@flow.example', subject: 'own domain spoof via connector', extraHeaders: [edge] }),
      { from: 'ceo@flow.example', to: ['erin@flow.example'] },
      CONNECTOR,
    );
    expect(refused.response).toMatch(/^550 5\.7\.23 /);
    const spoof = await storedMessage('own domain spoof via connector');
    expect(spoof).toMatchObject({ direction: 'INBOUND', scanStatus: 'SCANNED' });
    expect((spoof!.metadata as { direction?: unknown }).direction).toMatchObject({ envelopeDirection: 'INTERNAL', enteredFromOutside: true, basis: 'provider-edge-hop' });

    // The same claim from the tenant's connector without an edge hop is the tenant's own internal mail: skipped.
    const internal = 'Received: from DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1::1) by SN6PR11MB5678.namprd11.prod.outlook.com with HTTPS; Wed, 25 Nov 2026 10:00:02 +0000';
    await send(message({ from: 'ceo@flow.example', to: 'erin@flow.example', subject: 'real internal via connector', extraHeaders: [internal] }), { from: 'ceo@flow.example', to: ['erin@flow.example'] }, CONNECTOR);
    const kept = await storedMessage('real internal via connector');
    expect(kept).toMatchObject({ direction: 'INTERNAL', scanStatus: 'SKIPPED' });
    expect((kept!.metadata as { direction?: unknown }).direction).toMatchObject({ enteredFromOutside: false, basis: 'tenant-connector' });
  });

  it('should recognise the connector by its verified TLS client certificate name', async () => {
    const viaCertificate = async (client: { key: string; cert: string }, subject: string) => {
      const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, requireTLS: true, name: 'outbound.protection.outlook.test', tls: { rejectUnauthorized: false, key: client.key, cert: client.cert } });
      try {
        return (await transport.sendMail({ envelope: { from: 'alice@sender.example', to: ['erin@flow.example'] }, raw: message({ from: 'alice@sender.example', to: 'erin@flow.example', subject }) })).response;
      } catch (error) {
        return String((error as { response?: string }).response);
      } finally {
        transport.close();
      }
    };
    // From 127.0.0.1, outside the connector's source range: only the certificate can identify it.
    expect(await viaCertificate(certificates.connector, 'connector by certificate')).toMatch(/^250 /);
    const stored = await storedMessage('connector by certificate');
    expect(stored?.source).toBe('MAILFLOW');
    expect((stored?.metadata as { gateway?: { fromConnector?: boolean } }).gateway?.fromConnector).toBe(true);
    expect(await viaCertificate(certificates.stranger, 'self-signed look-alike')).toMatch(/^550 5\.7\.1 .*Microsoft 365 connector only/);
  });

  it('should send a DSN (RFC 3464) to the sender when the downstream refuses a recipient for good, and none for a null sender', async () => {
    sink.rejectRecipients.add('gone@acme.example');
    await send(message({ from: 'alice@sender.example', to: 'gone@acme.example', subject: 'to a gone mailbox' }), { from: 'alice@sender.example', to: ['gone@acme.example'] });
    const [dsn] = await waitFor(async () => sink.to('alice@sender.example'));
    expect(dsn!.from).toBe('');
    const text = dsn!.raw.toString('latin1');
    expect(text).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(text).toMatch(/Final-Recipient: rfc822; gone@acme\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\n/);
    expect(text).toContain('Subject: to a gone mailbox');
    const stored = await storedMessage('to a gone mailbox');
    expect(stored?.deliveryState).toBe('FAILED');

    await send(message({ from: 'mailer-daemon@sender.example', to: 'gone@acme.example', subject: 'a bounce to a gone mailbox' }), { from: '', to: ['gone@acme.example'] });
    await waitFor(async () => (await storedMessage('a bounce to a gone mailbox'))?.deliveryState === 'FAILED');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sink.to('alice@sender.example')).toHaveLength(1);
    expect(sink.received.filter((entry) => entry.raw.includes('a bounce to a gone mailbox'))).toHaveLength(0);
  });

  it('should deliver a committed message whose delivery job was lost (the sweeper re-enqueues it), once', async () => {
    // As if the front had crashed between the commit and the enqueue: a stored message with a QUEUED copy, no job.
    const stored = await factories.newMessage(account, { source: 'GATEWAY', envelopeFrom: 'alice@sender.example', envelopeTo: ['gina@acme.example'], subject: 'lost job' });
    await db.prisma.recipientDelivery.create({ data: { messageId: stored.id, recipient: 'gina@acme.example', action: 'DELIVER', state: 'QUEUED', updatedAt: new Date(Date.now() - 600_000) } });
    const sweeper = scanner.get(DeliverySweeperService);
    expect(await sweeper.sweep(60_000)).toBe(1);
    await waitFor(async () => sink.to('gina@acme.example'));
    await waitFor(async () => (await db.prisma.message.findUnique({ where: { id: stored.id } }))?.deliveryState === 'DELIVERED');
    expect(await sweeper.sweep(0)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.to('gina@acme.example')).toHaveLength(1);
  });

  it('should keep deliveries DEFERRED while the downstream is down and deliver each exactly once when it is back', async () => {
    const port = sink.port;
    await sink.stop();
    const subjects = ['outage 1', 'outage 2', 'outage 3'];
    for (const subject of subjects) {
      await send(message({ from: 'alice@sender.example', to: 'frank@acme.example', subject }), { from: 'alice@sender.example', to: ['frank@acme.example'] });
    }
    const deferred = await waitFor(async () => {
      const rows = await db.prisma.message.findMany({ where: { accountId: account.id, subject: { in: subjects } } });
      return rows.length === 3 && rows.every((row) => row.deliveryState === 'DEFERRED') ? rows : null;
    });
    // Let a few retries fail against the closed port.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const attempts = await db.prisma.recipientDelivery.findMany({ where: { messageId: { in: deferred.map((row) => row.id) } } });
    expect(attempts.every((copy) => copy.state === 'DEFERRED' && copy.attempts >= 2 && /ECONNREFUSED|connect/i.test(copy.lastError ?? ''))).toBe(true);

    await sink.start(port);
    await waitFor(async () => {
      const rows = await db.prisma.message.findMany({ where: { id: { in: deferred.map((row) => row.id) } } });
      return rows.every((row) => row.deliveryState === 'DELIVERED');
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const subject of subjects) {
      expect(sink.to('frank@acme.example').filter((entry) => summarizeMessageHeaders(entry.raw).subject === subject)).toHaveLength(1);
    }
    // Issue 13: the recipient's history has the scan, each failed attempt with its reason, and the delivery's reply.
    const events = await db.prisma.recipientEvent.findMany({ where: { messageId: deferred[0]!.id }, orderBy: { id: 'asc' } });
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('SCANNED');
    expect(types.at(-1)).toBe('DELIVERED');
    expect(types.slice(1, -1).every((type) => type === 'DEFERRED') && types.length >= 4).toBe(true);
    expect(events.every((event) => event.recipient === 'frank@acme.example')).toBe(true);
    expect(events[1]).toMatchObject({ reply: expect.stringMatching(/ECONNREFUSED|connect/i), detail: { attempted: true, attempt: 1, downstream: `127.0.0.1:${port}` } });
    expect(events.at(-1)).toMatchObject({ reply: expect.stringMatching(/^250 /), detail: { attempted: true, attempt: types.length - 1 } });
  });
});

describe(`${GatewaySmtpServer.name} limits, failures and shutdown`, () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let proxy: TcpProxy;
  let scanner: INestApplication;
  let smtpPort: number;
  let domain: Domain;
  const sink = new SmtpSink();
  const plainSink = new SmtpSink({ noStartTls: true });
  const zone = new ZoneDnsResolver({
    'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
    'slow.example': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.slow.example': { TXT: { error: 'ETIMEOUT' } },
  });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  async function attempt(raw: Buffer, envelope: { from: string; to: string[] }): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, name: 'client.sender.example' });
    try {
      return (await transport.sendMail({ envelope, raw })).response;
    } catch (error) {
      return String((error as { response?: string }).response ?? (error as Error).message);
    } finally {
      transport.close();
    }
  }

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    const factories = new TestFactories(db.prisma);
    await sink.start();
    smtpPort = await freePort();
    const account = await factories.newAccount({ monitorOnly: false });
    domain = await factories.newDomain(account, { name: 'globex.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    await db.prisma.domain.update({ where: { id: domain.id }, data: { downstreamVerifyCert: false } });
    await plainSink.start();
    const plain = await factories.newDomain(account, { name: 'plain.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: plainSink.port });
    await db.prisma.domain.update({ where: { id: plain.id }, data: { downstreamVerifyCert: false } });
    // Certificate checked (the default): the sink's self-signed, expired certificate must stop the delivery.
    await factories.newDomain(account, { name: 'checked.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port });
    const proxied = await proxiedDatabaseUrl(db.url);
    proxy = proxied.proxy;
    scanner = await createScanner(
      loadConfig('scanner', {
        DATABASE_URL: proxied.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'fatal',
        SMTP_HOSTNAME: HOST,
        SMTP_MAX_CONNECTIONS_PER_CLIENT: '3',
        SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT: '6',
        SCANNER_SMTP_PORT: String(smtpPort),
        SCANNER_HTTP_PORT: String(await freePort()),
        JOURNAL_HTTP_PORT: String(await freePort()),
      }),
      false,
      { dnsLookup, smtp: { drainTimeoutMs: 10_000 }, delivery: { initialRetryDelayMs: 300, maxRetryDelayMs: 1_000, timeoutMs: 5_000 } },
    );
    await scanner.init();
  });

  afterAll(async () => {
    await scanner?.close().catch(() => undefined);
    await proxy?.cut();
    await sink.stop();
    await plainSink.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  it('should report a quick test that reached the downstream and how long it took', async () => {
    const quickTest = new QuickTestService(scanner.get(DeliveryRepository), { smtpHost: '127.0.0.1', smtpPort, hostname: HOST, timeoutMs: 20_000, pollMs: 50 });
    const result = await quickTest.quickTest(domain.id);
    expect(result).toMatchObject({ domain: 'globex.example', recipient: 'postmaster@globex.example', accepted: true, arrived: true, deliveryState: 'DELIVERED' });
    expect(result.elapsedMs).toBeGreaterThan(0);
    expect(sink.to('postmaster@globex.example')).toHaveLength(1);
  });

  it('should keep copies DEFERRED rather than send them in clear text or to an unverified certificate', async () => {
    for (const [recipient, subject] of [['pat@plain.example', 'needs tls'], ['pat@checked.example', 'needs a valid certificate']] as const) {
      expect(await attempt(message({ from: 'a@sender.example', to: recipient, subject }), { from: 'a@sender.example', to: [recipient] })).toMatch(/^250 /);
    }
    const copyOf = (recipient: string) =>
      waitFor(async () => {
        const row = await db.prisma.recipientDelivery.findFirst({ where: { recipient } });
        return row && row.attempts >= 1 ? row : null;
      });
    const plain = await copyOf('pat@plain.example');
    expect([plain.state, plain.lastError]).toEqual(['DEFERRED', expect.stringMatching(/STARTTLS/i)]);
    const checked = await copyOf('pat@checked.example');
    expect([checked.state, checked.lastError]).toEqual(['DEFERRED', expect.stringMatching(/certificate/i)]);
    expect(plainSink.received).toHaveLength(0);
    expect(sink.to('pat@checked.example')).toHaveLength(0);
  });

  it('should answer 451 when a DNS temperror could decide a rejection, and store nothing', async () => {
    const reply = await attempt(message({ from: 'x@slow.example', to: 'amy@globex.example', subject: 'slow dns' }), { from: 'x@slow.example', to: ['amy@globex.example'] });
    expect(reply).toMatch(/^451 4\.7\.0 Sender authentication temporarily unavailable \(dmarc/);
    expect(await db.prisma.message.count({ where: { subject: 'slow dns' } })).toBe(0);
  });

  it('should answer 451 4.3.0 while the database is down and accept the message once it is back', async () => {
    await proxy.cut();
    try {
      const reply = await attempt(message({ from: 'a@sender.example', to: 'amy@globex.example', subject: 'db down' }), { from: 'a@sender.example', to: ['amy@globex.example'] });
      expect(reply).toMatch(/^451 4\.3\.0 /);
    } finally {
      await proxy.restore();
    }
    const reply = await waitFor(async () => {
      const answer = await attempt(message({ from: 'a@sender.example', to: 'amy@globex.example', subject: 'db back' }), { from: 'a@sender.example', to: ['amy@globex.example'] });
      return answer.startsWith('250') ? answer : null;
    });
    expect(reply).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(await db.prisma.message.count({ where: { subject: 'db down' } })).toBe(0);
  });

  it('should refuse connections over the per-client limit with 421 and messages over the rate with 451 4.7.1', async () => {
    // From 127.0.0.2: a client of its own, so the other tests' counts do not matter.
    const open = await Promise.all([RawSmtp.open(smtpPort, '127.0.0.2'), RawSmtp.open(smtpPort, '127.0.0.2'), RawSmtp.open(smtpPort, '127.0.0.2')]);
    const extra = await RawSmtp.open(smtpPort, '127.0.0.2');
    try {
      expect(open.map((session) => session.greeting.slice(0, 3))).toEqual(['220', '220', '220']);
      expect(extra.greeting).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.2/);
      const { client } = open[0]!;
      await client.command('EHLO client.sender.example');
      const replies: string[] = [];
      for (let i = 0; i < 8; i++) {
        replies.push(await client.command('MAIL FROM:<a@sender.example>'));
        await client.command('RSET');
      }
      expect(replies.some((reply) => /^451 4\.7\.1 Too many messages from 127\.0\.0\.2/.test(reply))).toBe(true);
    } finally {
      for (const session of [...open, extra]) {
        session.client.close();
      }
    }
  });

  it('should answer 421 to new sessions on shutdown and finish the message in flight', async () => {
    const { client } = await RawSmtp.open(smtpPort, '127.0.0.3');
    await client.command('EHLO client.sender.example');
    expect(await client.command('MAIL FROM:<a@sender.example>')).toMatch(/^250/);
    expect(await client.command('RCPT TO:<amy@globex.example>')).toMatch(/^250/);
    expect(await client.command('DATA')).toMatch(/^354/);
    client.write(message({ from: 'a@sender.example', to: 'amy@globex.example', subject: 'in flight at shutdown' }));

    const closing = scanner.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await RawSmtp.open(smtpPort, '127.0.0.3');
    expect(late.greeting).toMatch(/^421 4\.3\.2 .*shutting down/);
    late.client.close();

    expect(await client.command('.')).toMatch(/^250 2\.0\.0 Ok: queued as /);
    await client.command('QUIT').catch(() => '');
    client.close();
    await closing;
    expect(await db.prisma.message.count({ where: { subject: 'in flight at shutdown' } })).toBe(1);
  });
});
