import { summarizeMessageHeaders } from '@mailwarden/journal';
import {
  appTestEnv,
  createTestDatabase,
  createTestRedis,
  DnsTestServer,
  freePort,
  scrapeMetrics,
  sendFromParallelConnections,
  SmtpSink,
  startAppProcess,
  TestFactories,
  waitFor,
  type AppProcess,
  type TestDatabase,
  type TestRedis,
} from '@mailwarden/testing';

const RECIPIENTS = ['bob@acme.example', 'carol@acme.example'];

interface Gateway {
  app: AppProcess;
  baseUrl: string;
}

/**
 * Issue 20: two gateway processes (SCANNER_ROLE=all, in-process delivery on) share one SMTP port (SMTP_REUSE_PORT),
 * PostgreSQL and Redis; each stores what its connections bring with the copies claimed, relays them itself, and runs
 * the delivery sweeper and queue workers. The real compiled processes, the downstream a local SMTP sink.
 */
describe('gateway processes sharing one SMTP port (SMTP_REUSE_PORT)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let smtpPort: number;
  let env: Record<string, string>;
  const dns = new DnsTestServer({ 'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } });
  // A held delivery whose gateway died is not received: the sink never replied to its data, so it is the sweeper's.
  const sink = new SmtpSink({ discardAbandoned: true });
  const gateways: Gateway[] = [];

  async function startGateway(reusePort: boolean): Promise<Gateway> {
    const httpPort = await freePort();
    const app = await startAppProcess('scanner', { ...env, SMTP_REUSE_PORT: String(reusePort), SCANNER_HTTP_PORT: String(httpPort) }, /app\.listening/);
    return { app, baseUrl: `http://127.0.0.1:${httpPort}` };
  }

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    await dns.start();
    await sink.start();
    const factories = new TestFactories(db.prisma);
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port, downstreamVerifyCert: false });
    smtpPort = await freePort();
    env = await appTestEnv(db, redis, { SCANNER_ROLE: 'all', GATEWAY_INLINE_DELIVERY: 'true', SCANNER_SMTP_PORT: String(smtpPort), DNS_SERVERS: dns.server, SMTP_HOSTNAME: 'mx.mailwarden.test' });
    gateways.push(...(await Promise.all([startGateway(true), startGateway(true)])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.app.stop()));
    sink.hold = null;
    await sink.stop();
    await dns.stop();
    await redis?.cleanup();
    await db?.drop();
  });

  /** `connections` senders at once, each on its own connection sending `perConnection` messages; the final replies by Message-ID. */
  function send(tag: string, connections: number, perConnection: number): Promise<Map<string, string>> {
    return sendFromParallelConnections(
      smtpPort,
      connections,
      perConnection,
      (connection, index) => {
        const messageId = `<${tag}-${connection}-${index}@sender.example>`;
        const raw = Buffer.from([`From: alice@sender.example`, `To: ${RECIPIENTS.join(', ')}`, `Subject: ${tag}`, `Message-ID: ${messageId}`, '', 'Hello.', ''].join('\r\n'));
        return { messageId, envelope: { from: 'alice@sender.example', to: RECIPIENTS }, raw };
      },
      { clientName: 'client.sender.example' },
    );
  }

  const refused = (replies: Map<string, string>) => [...replies].filter(([, reply]) => !/^250 /.test(reply));

  /** The stored messages of a tag: their Message-ID, and their copies' states. */
  async function stored(tag: string) {
    const messages = await db.prisma.message.findMany({ where: { messageIdHeader: { startsWith: `<${tag}-` } }, select: { id: true, messageIdHeader: true } });
    const copies = await db.prisma.recipientDelivery.findMany({ where: { messageId: { in: messages.map((message) => message.id) } }, select: { messageId: true, state: true, claimedUntil: true } });
    return messages.map((message) => ({ ...message, deliveries: copies.filter((copy) => copy.messageId === message.id) }));
  }

  /** How many times the sink received each (Message-ID, recipient) of a tag. */
  function sinkCopies(tag: string): Map<string, number> {
    const copies = new Map<string, number>();
    for (const entry of sink.received) {
      const messageId = summarizeMessageHeaders(entry.raw).messageId ?? '';
      if (messageId.startsWith(`<${tag}-`)) {
        entry.to.forEach((recipient) => copies.set(`${messageId} ${recipient}`, (copies.get(`${messageId} ${recipient}`) ?? 0) + 1));
      }
    }
    return copies;
  }

  /** Every (Message-ID, recipient) of the replies, once each. */
  const once = (replies: Map<string, string>) => new Map([...replies.keys()].flatMap((messageId) => RECIPIENTS.map((recipient) => [`${messageId} ${recipient}`, 1] as const)));

  const allDelivered = async (tag: string) => (await stored(tag)).every((message) => message.deliveries.every((copy) => copy.state === 'DELIVERED'));

  it('should spread connections over both processes, store each message once and relay every copy exactly once', async () => {
    const before = await Promise.all(gateways.map((gateway) => scrapeMetrics(gateway.baseUrl)));
    // 16 connections: the kernel hashes each to one listener, so a one-sided split has odds of 2 in 65,536.
    const replies = await send('shared', 16, 5);
    expect(refused(replies)).toEqual([]);
    const messages = await stored('shared');
    expect(messages.map((message) => message.messageIdHeader).sort()).toEqual([...replies.keys()].sort());
    await waitFor(() => allDelivered('shared'), 'every copy delivered');
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second copy, if any were sent
    expect(sinkCopies('shared')).toEqual(once(replies));
    // Each process counts only its own: both took connections, and together exactly what was sent.
    const after = await Promise.all(gateways.map((gateway) => scrapeMetrics(gateway.baseUrl)));
    const sessions = after.map((snapshot, index) => snapshot.delta(before[index]!, 'mailwarden_smtp_sessions_total', { outcome: 'accepted' }));
    const storedBy = after.map((snapshot, index) => snapshot.delta(before[index]!, 'mailwarden_messages_stored_total', { outcome: 'stored' }));
    expect([sessions[0]! + sessions[1]!, storedBy[0]! + storedBy[1]!]).toEqual([16, 80]);
    expect(Math.min(...sessions, ...storedBy)).toBeGreaterThan(0);
  }, 60_000);

  it('should keep serving on the port and relay every accepted copy exactly once when one process is killed (SIGKILL) after its 250s', async () => {
    const [doomed, survivor] = gateways as [Gateway, Gateway];
    const before = await scrapeMetrics(doomed.baseUrl);
    // The downstream holds every DATA: each process has copies in flight (held) and more waiting in its backlog.
    let release!: () => void;
    sink.hold = new Promise((resolve) => (release = resolve));
    const beforeKill = await send('before-kill', 16, 2);
    expect(refused(beforeKill)).toEqual([]);
    // Its deliveries have started, and the downstream's held DATA no longer grows: its connections are all inside one.
    let held = -1;
    let steady = 0;
    await waitFor(async () => {
      const running = (await scrapeMetrics(doomed.baseUrl)).value('mailwarden_inline_deliveries_running');
      steady = running > 0 && sink.held > 0 && sink.held === held ? steady + 1 : 0;
      held = sink.held;
      return steady >= 3;
    }, 'deliveries of the process to kill in flight');
    const storedByDoomed = (await scrapeMetrics(doomed.baseUrl)).delta(before, 'mailwarden_messages_stored_total', { outcome: 'stored' });
    expect(storedByDoomed).toBeGreaterThan(0);
    await doomed.app.kill9();
    gateways.splice(gateways.indexOf(doomed), 1);

    // The survivor alone takes the new connections.
    const afterKill = await send('after-kill', 16, 1);
    expect(refused(afterKill)).toEqual([]);
    release();
    sink.hold = null;

    // Once the survivor has relayed its own, what is left QUEUED is the dead process's: still claimed (its lease,
    // no longer renewed), so nobody took it. Then the lease runs out (simulated: 2 minutes, and the sweeper's grace,
    // also 2 minutes, of the copy's last update) and the survivor's sweeper (every 30 s) queues it for its workers.
    await waitFor(() => allDelivered('after-kill'), 'the survivor relays the new connections');
    expect(sink.abandoned).toBeGreaterThan(0); // the dead process's deliveries held at the downstream
    let left = -1;
    let quiet = 0;
    await waitFor(async () => {
      const metrics = await scrapeMetrics(survivor.baseUrl);
      const idle = metrics.value('mailwarden_inline_deliveries_running') + metrics.value('mailwarden_inline_delivery_backlog') === 0;
      const queued = (await stored('before-kill')).flatMap((message) => message.deliveries.filter((copy) => copy.state !== 'DELIVERED')).length;
      quiet = idle && sink.held === 0 && queued === left ? quiet + 1 : 0;
      left = queued;
      return quiet >= 5;
    }, 'the survivor settles');
    const orphans = (await stored('before-kill')).filter((message) => message.deliveries.some((copy) => copy.state !== 'DELIVERED'));
    // None of them could be delivered before the kill (the downstream held every DATA): all are left, none lost.
    expect(orphans).toHaveLength(storedByDoomed);
    for (const message of orphans) {
      expect(message.deliveries.map((copy) => [copy.state, copy.claimedUntil!.getTime() > Date.now()])).toEqual([
        ['QUEUED', true],
        ['QUEUED', true],
      ]);
    }
    const ids = orphans.map((message) => message.id);
    await db.prisma.$executeRaw`UPDATE recipient_delivery SET claimed_until = now() - interval '1 second', updated_at = now() - interval '3 minutes' WHERE message_id = ANY(${ids}::uuid[]) AND state = 'QUEUED'`;
    await waitFor(() => allDelivered('before-kill'), 'the survivor sweeps the dead process\'s copies', 45_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second copy, if any were sent

    for (const [tag, replies] of [['before-kill', beforeKill], ['after-kill', afterKill]] as const) {
      expect((await stored(tag)).map((message) => message.messageIdHeader).sort()).toEqual([...replies.keys()].sort());
      expect(sinkCopies(tag)).toEqual(once(replies));
    }
  }, 90_000);

  it('should refuse a process without the setting on the shared port, naming it', async () => {
    await expect(startGateway(false)).rejects.toThrow(`SMTP port 127.0.0.1:${smtpPort} is already in use`);
  }, 30_000);
});
