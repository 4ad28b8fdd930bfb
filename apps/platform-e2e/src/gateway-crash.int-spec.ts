import { createServer, type Server, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import type { Domain } from '@mailwarden/db';
import { summarizeMessageHeaders } from '@mailwarden/journal';
import { appTestEnv, createTestDatabase, createTestRedis, DnsTestServer, freePort, SmtpSink, startAppProcess, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only: the real delivery worker recovers what the crash left
import { createScanner } from '../../scanner/src/scanner.app';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only, as above
import { DeliverySweeperService } from '../../scanner/src/delivery/delivery-sweeper.service';

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not in time`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Issue 20: the gateway (SCANNER_ROLE=all) delivers what it stored in its own process after the 250. Killed with
 * SIGKILL after the 250, before its delivery ended (in flight towards the downstream, or not started), every message
 * is still delivered exactly once: its copy was QUEUED and claimed in the commit that preceded the 250, the dead
 * process's claim keeps every other run off until its lease ends (2 minutes: renewed only while the process lives),
 * then the delivery sweeper queues it.
 */
describe('gateway in-process delivery after a crash (SIGKILL)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let domain: Domain;
  let worker: INestApplication | undefined;
  const dns = new DnsTestServer({ 'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } });
  const sink = new SmtpSink();
  // A downstream that takes the connection and never greets: the delivery stays in flight until the kill.
  const stuck: Socket[] = [];
  const silent: Server = createServer((socket) => stuck.push(socket));

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    await dns.start();
    await sink.start();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const factories = new TestFactories(db.prisma);
    const account = await factories.newAccount({ monitorOnly: false });
    domain = await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: (silent.address() as { port: number }).port, downstreamVerifyCert: false });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    stuck.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
    await sink.stop();
    await dns.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  async function send(smtpPort: number, subject: string): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, name: 'client.sender.example' });
    try {
      const raw = Buffer.from([`From: alice@sender.example`, `To: bob@acme.example`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@sender.example>`, '', 'Hello.', ''].join('\r\n'));
      const info = await transport.sendMail({ envelope: { from: 'alice@sender.example', to: ['bob@acme.example'] }, raw });
      expect(info.response).toMatch(/^250 /);
      return /queued as ([0-9a-f-]{36})/.exec(info.response)![1]!;
    } finally {
      transport.close();
    }
  }

  it('should deliver every message that got a 250 exactly once, through the sweeper, when the gateway is killed before its deliveries end', async () => {
    const smtpPort = await freePort();
    const env = await appTestEnv(db, redis, { SCANNER_ROLE: 'all', SCANNER_SMTP_PORT: String(smtpPort), DNS_SERVERS: dns.server, SMTP_HOSTNAME: 'mx.mailwarden.test' });
    const gateway = await startAppProcess('scanner', env, /smtp\.listening/);
    const ids: string[] = [];
    try {
      // In flight: claimed, connected to the downstream, waiting for its greeting.
      ids.push(await send(smtpPort, 'crash in flight'));
      await waitUntil(async () => stuck.length >= 1, 'the in-process delivery in flight');
      // Killed right after the 250: its delivery may not even have started.
      ids.push(await send(smtpPort, 'crash right after the reply'));
    } finally {
      await gateway.kill9();
    }
    const copies = () => db.prisma.recipientDelivery.findMany({ where: { messageId: { in: ids } } });
    expect((await copies()).map((copy) => copy.state)).toEqual(['QUEUED', 'QUEUED']);
    const inFlight = (await copies()).find((copy) => copy.messageId === ids[0])!;
    expect(inFlight.claimedUntil!.getTime()).toBeGreaterThan(Date.now()); // the dead run's claim
    // No longer renewed, it runs out within the (short) lease: 2 minutes, as the sweeper's grace.
    expect((await copies()).every((copy) => copy.claimedUntil!.getTime() <= Date.now() + 120_000)).toBe(true);

    // The downstream is back; a worker takes over (its sweeper at its most eager: no grace).
    await db.prisma.domain.update({ where: { id: domain.id }, data: { downstreamPort: sink.port } });
    worker = await createScanner(loadConfig('scanner', await appTestEnv(db, redis, { SCANNER_ROLE: 'worker', DNS_SERVERS: dns.server, SMTP_HOSTNAME: 'mx.mailwarden.test' })), false, {
      delivery: { timeoutMs: 5_000 },
    });
    await worker.init();
    const sweeper = worker.get(DeliverySweeperService);
    // While the claim lasts nobody takes the in-flight copy (the dead process may have handed it over already).
    // Both were claimed by the statement that stored them, the one whose delivery never started too.
    expect((await copies()).filter((copy) => !copy.claimedUntil)).toEqual([]);
    expect(await sweeper.sweep(0)).toBe(0);
    // The lease (2 minutes by default, no longer renewed by the dead process) has passed: the sweeper queues what is left.
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: { in: ids }, claimedUntil: { not: null } }, data: { claimedUntil: new Date(Date.now() - 1) } });
    await waitUntil(async () => (await sweeper.sweep(0)) >= 0 && (await copies()).every((copy) => copy.state === 'DELIVERED'), 'every copy delivered');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sweeper.sweep(0)).toBe(0);
    for (const subject of ['crash in flight', 'crash right after the reply']) {
      expect(sink.received.filter((entry) => summarizeMessageHeaders(entry.raw).subject === subject)).toHaveLength(1);
    }
    expect((await copies()).map((copy) => [copy.state, copy.claimedUntil])).toEqual([
      ['DELIVERED', null],
      ['DELIVERED', null],
    ]);
  }, 90_000);
});
