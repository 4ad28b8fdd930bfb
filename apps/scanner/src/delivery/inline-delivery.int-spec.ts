import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createTransport } from 'nodemailer';
import { loadConfig } from '@mailwarden/config';
import { DeliveryRepository, MessageRepository, type Account, type Domain } from '@mailwarden/db';
import { summarizeMessageHeaders } from '@mailwarden/journal';
import { QueueName } from '@mailwarden/queue';
import { ZoneDnsResolver, type DnsLookup } from '@mailwarden/sender-checks';
import { appTestEnv, createTestDatabase, createTestRedis, freePort, SmtpSink, TestFactories, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { createScanner } from '../scanner.app';
import { DeliveryClaims } from './delivery-claims.service';
import { DeliverySweeperService } from './delivery-sweeper.service';
import { DeliveryService, type DeliveryRun } from './delivery.service';
import { PostCommitDeliveries } from './post-commit-deliveries.service';

const HOST = 'mx.mailwarden.test';
/** The claims' lease in these tests (2 minutes in production), renewed every RENEW_MS while a process holds them. */
const LEASE_MS = 5_000;
const RENEW_MS = 250;

async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function tearDown(queue: Queue | undefined, scanner: INestApplication | undefined, sink: SmtpSink, redis: TestRedis | undefined, db: TestDatabase | undefined): Promise<void> {
  await queue?.close();
  await scanner?.close();
  await sink.stop();
  await redis?.cleanup();
  await db?.drop();
}

function message(subject: string, to: string): Buffer {
  return Buffer.from(
    [`From: alice@sender.example`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@sender.example>`, 'Date: Wed, 25 Nov 2026 10:00:00 +0000', '', 'Hello.', ''].join('\r\n'),
  );
}

jest.setTimeout(60_000);

/**
 * Issue 20: with SCANNER_ROLE=all the gateway delivers what it stored in the same process, right after the commit and
 * the 250 (PostCommitDeliveries), the delivery queue and the sweeper being the fallback. Real PostgreSQL, Redis and
 * SMTP (a local sink that can hold a delivery in flight).
 */
describe('gateway in-process delivery (SCANNER_ROLE=all)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let factories: TestFactories;
  let scanner: INestApplication;
  let queue: Queue;
  let smtpPort: number;
  let account: Account;
  let down: Domain;
  const sink = new SmtpSink();
  const zone = new ZoneDnsResolver({ 'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } });
  const dnsLookup: DnsLookup = async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) });

  async function send(subject: string, to: string[], from = 'alice@sender.example'): Promise<string> {
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, name: 'client.sender.example' });
    try {
      const info = await transport.sendMail({ envelope: { from, to }, raw: message(subject, to.join(', ')) });
      return /queued as ([0-9a-f-]{36})/.exec(info.response)![1]!;
    } finally {
      transport.close();
    }
  }

  const received = (subject: string) => sink.received.filter((entry) => summarizeMessageHeaders(entry.raw).subject === subject);
  const copiesOf = (messageId: string) => db.prisma.recipientDelivery.findMany({ where: { messageId }, orderBy: { recipient: 'asc' } });

  /** A gateway message stored QUEUED without a front (as `storeProcessed` leaves it), for runs started by the test. */
  async function storedQueued(subject: string, recipients: string[]): Promise<string> {
    const stored = await factories.newMessage(account, { source: 'GATEWAY', envelopeFrom: 'alice@sender.example', envelopeTo: recipients, subject });
    await db.prisma.recipientDelivery.createMany({ data: recipients.map((recipient) => ({ messageId: stored.id, recipient, action: 'DELIVER' as const, state: 'QUEUED' as const })) });
    return stored.id;
  }

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    factories = new TestFactories(db.prisma);
    await sink.start();
    smtpPort = await freePort();
    account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port, downstreamVerifyCert: false });
    // A downstream that refuses connections: every attempt is a temporary failure (DEFERRED).
    down = await factories.newDomain(account, { name: 'down.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: await freePort(), downstreamVerifyCert: false });
    const config = loadConfig(
      'scanner',
      await appTestEnv(db, redis, { SMTP_HOSTNAME: HOST, SCANNER_SMTP_PORT: String(smtpPort), SCANNER_ROLE: 'all', GATEWAY_INLINE_DELIVERY_CONCURRENCY: '2', GATEWAY_INLINE_DELIVERY_BACKLOG: '1' }),
    );
    scanner = await createScanner(config, false, {
      dnsLookup,
      smtp: { drainTimeoutMs: 5_000 },
      delivery: { initialRetryDelayMs: 400, maxRetryDelayMs: 1_600, timeoutMs: 15_000, claimLeaseMs: LEASE_MS, claimRenewEveryMs: RENEW_MS },
    });
    await scanner.init();
    queue = new Queue(QueueName.Delivery, { connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port || 6379) }, prefix: redis.prefix });
  });

  afterEach(() => {
    sink.hold = null;
  });

  afterAll(() => tearDown(queue, scanner, sink, redis, db));

  it('should deliver a stored message in the process that stored it, after the 250, without a delivery job', async () => {
    // The copies are claimed by the statement that stores them: the in-process run has no claim statement of its own.
    const claims = jest.spyOn(scanner.get(DeliveryRepository), 'claimCopies');
    const id = await send('inline one', ['bob@acme.example', 'carol@acme.example']);
    await waitFor(async () => (await db.prisma.message.findFirst({ where: { id } }))?.deliveryState === 'DELIVERED');
    expect(claims).not.toHaveBeenCalled();
    claims.mockRestore();
    // One copy per recipient (their stored checks differ: the header anomaly's evidence is per recipient).
    expect(received('inline one').flatMap((entry) => entry.to).sort()).toEqual(['bob@acme.example', 'carol@acme.example']);
    expect((await copiesOf(id)).map((copy) => [copy.recipient, copy.state, copy.attempts, copy.claimedUntil])).toEqual([
      ['bob@acme.example', 'DELIVERED', 1, null],
      ['carol@acme.example', 'DELIVERED', 1, null],
    ]);
    expect(await queue.getJob(id)).toBeUndefined();
  });

  it('should relay the same bytes in process as a job relays from the stored row', async () => {
    const id = await send('same bytes', ['Jack@acme.example'], 'Alice@Sender.example');
    await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED');
    const [inline] = received('same bytes');
    // The same stored message once more through the job path (its copy set back to QUEUED, as a fresh delivery).
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: id }, data: { state: 'QUEUED' } });
    expect((await scanner.get(DeliveryService).deliver({ messageId: id, recipients: ['jack@acme.example'] })).delivered).toEqual(['jack@acme.example']);
    const [, queued] = received('same bytes');
    expect({ from: queued!.from, to: queued!.to }).toEqual({ from: inline!.from, to: inline!.to });
    expect(queued!.raw.toString('latin1')).toBe(inline!.raw.toString('latin1'));
  });

  it('should never send a copy twice when a queued job and the sweeper meet the in-process delivery in flight', async () => {
    let release!: () => void;
    sink.hold = new Promise((resolve) => (release = resolve));
    const id = await send('in flight', ['dora@acme.example']);
    await waitFor(async () => sink.held === 1); // the in-process run is past its claim, inside the downstream's DATA
    const [claimed] = await copiesOf(id);
    expect(claimed).toMatchObject({ state: 'QUEUED', claimedUntil: expect.any(Date) });
    expect(claimed!.claimedUntil!.getTime()).toBeGreaterThan(Date.now());

    // A job for the same message (a retry, another front's enqueue) and the sweeper at its most eager: both find the
    // copy claimed. Without the claim the job would read it QUEUED and relay it a second time.
    const delivery = scanner.get(DeliveryService);
    expect(await delivery.deliver({ messageId: id, recipients: ['dora@acme.example'] })).toEqual({ delivered: [], failed: [], deferred: [], retryInMs: 0 });
    expect(await scanner.get(DeliverySweeperService).sweep(0)).toBe(0);

    release();
    await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED');
    await pause(300);
    expect(received('in flight')).toHaveLength(1);
    expect(await scanner.get(DeliverySweeperService).sweep(0)).toBe(0);
  });

  it('should relay each copy once when in-process deliveries and jobs of the same messages race', async () => {
    const delivery = scanner.get(DeliveryService);
    const messages = scanner.get(MessageRepository);
    const deliveries = scanner.get(DeliveryRepository);
    const ids = await Promise.all(Array.from({ length: 8 }, (_, index) => storedQueued(`race ${index}`, ['erin@acme.example', 'fay@acme.example'])));
    await Promise.all(
      ids.map(async (id) => {
        const stored = (await deliveries.findForDelivery(id))!;
        const raw = (await messages.readRaw(stored))!;
        const job = { messageId: id, recipients: ['erin@acme.example', 'fay@acme.example'] };
        await Promise.all([delivery.deliverStored({ message: stored, raw, recipients: job.recipients }), delivery.deliver(job), delivery.deliver(job), delivery.deliverStored({ message: stored, raw, recipients: job.recipients })]);
      }),
    );
    for (let index = 0; index < ids.length; index++) {
      expect(received(`race ${index}`).flatMap((entry) => entry.to).sort()).toEqual(['erin@acme.example', 'fay@acme.example']);
      expect((await copiesOf(ids[index]!)).map((copy) => [copy.state, copy.attempts])).toEqual([
        ['DELIVERED', 1],
        ['DELIVERED', 1],
      ]);
    }
  });

  it('should leave the copies of a run that died to the sweeper once its claim has expired, and deliver them once', async () => {
    const id = await storedQueued('died in flight', ['gus@acme.example']);
    // The run that claimed it is gone (kill -9 between its claim and its relay): nothing else may take the copy
    // while the lease lasts, then the sweeper queues it and the job delivers it.
    await scanner.get(DeliveryRepository).claimCopies(id, ['gus@acme.example'], 60_000);
    const sweeper = scanner.get(DeliverySweeperService);
    expect(await sweeper.sweep(0)).toBe(0);
    expect(await scanner.get(DeliveryService).deliver({ messageId: id, recipients: ['gus@acme.example'] })).toMatchObject({ delivered: [] });
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: id }, data: { claimedUntil: new Date(Date.now() - 1_000), updatedAt: new Date(Date.now() - 600_000) } }); // the lease (and the grace) passed
    expect(await sweeper.sweep(60_000)).toBe(1);
    await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED');
    await pause(300);
    expect(received('died in flight')).toHaveLength(1);
    expect(await sweeper.sweep(0)).toBe(0);
  });

  it('should keep renewing the claim of a delivery that lasts longer than the lease, so nothing else sends it: exactly one send', async () => {
    let release!: () => void;
    sink.hold = new Promise((resolve) => (release = resolve));
    const id = await send('slow downstream', ['lee@acme.example']);
    await waitFor(async () => sink.held === 1); // the in-process run is inside the downstream's DATA, which does not answer
    const [stored] = await copiesOf(id);
    const message = await db.prisma.message.findFirstOrThrow({ where: { id } });
    // As the store statement claimed it (received_at + lease), or later when a renewal (every RENEW_MS) came first on a
    // busy machine: a renewal only matches the exact value the store set, so either way the store's value was right.
    expect(stored!.claimedUntil!.getTime()).toBeGreaterThanOrEqual(message.receivedAt.getTime() + LEASE_MS);
    // Renewed past the first lease: by PostgreSQL's clock that lease is over, and the copy is still this run's.
    await waitFor(async () => ((await copiesOf(id))[0]?.claimedUntil?.getTime() ?? 0) > stored!.claimedUntil!.getTime() + LEASE_MS);
    expect(await scanner.get(DeliverySweeperService).sweep(0)).toBe(0);
    expect(await scanner.get(DeliveryService).deliver({ messageId: id, recipients: ['lee@acme.example'] })).toEqual({ delivered: [], failed: [], deferred: [], retryInMs: 0 });

    release();
    await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED');
    await pause(300);
    expect(received('slow downstream')).toHaveLength(1);
    expect((await copiesOf(id)).map((copy) => [copy.state, copy.attempts, copy.claimedUntil])).toEqual([['DELIVERED', 1, null]]);
    await waitFor(async () => scanner.get(DeliveryClaims).size === 0); // nothing left to renew
  });

  it('should leave a message whose process stopped renewing before its run to the sweeper after the lease, and never send it from the stalled run', async () => {
    const delivery = scanner.get(DeliveryService);
    const sweeper = scanner.get(DeliverySweeperService);
    const claims = scanner.get(DeliveryClaims);
    // The process freezes after the 250 (a long pause; or it died): its in-process run does not start, nothing is renewed.
    let resume!: () => void;
    const frozen = new Promise<void>((resolve) => (resume = resolve));
    let stalledRun: Promise<DeliveryRun> | undefined;
    const deliverStored = delivery.deliverStored.bind(delivery);
    const runs = jest.spyOn(delivery, 'deliverStored').mockImplementationOnce((stored) => (stalledRun = frozen.then(() => deliverStored(stored))));
    const renewal = jest.spyOn(claims, 'renew').mockResolvedValue(0);
    let release!: () => void;
    try {
      const id = await send('stalled after the reply', ['kim@acme.example']);
      await waitFor(async () => stalledRun !== undefined);
      // While the lease lasts nobody takes the copy; then the sweeper queues it and this process's worker takes it
      // (held at the downstream: that run's claim is live while the stalled one wakes up).
      expect(await sweeper.sweep(0)).toBe(0);
      sink.hold = new Promise((resolve) => (release = resolve));
      await waitFor(async () => (await sweeper.sweep(0)) === 1, LEASE_MS * 5);
      // The process wakes up as the sweeper queues the copy: its renewer runs again (the stalled run's claim ran out, so
      // it is not renewed; the job's claim, taken next, is, however long the job then waits at the downstream).
      renewal.mockRestore();
      await waitFor(async () => sink.held === 1);

      // The stalled run goes on: it neither sends nor records the copy the job has taken over.
      const taken = (await copiesOf(id))[0]!.claimedUntil!.getTime();
      await waitFor(async () => ((await copiesOf(id))[0]?.claimedUntil?.getTime() ?? 0) > taken);
      resume();
      expect(await stalledRun).toEqual({ delivered: [], failed: [], deferred: [], retryInMs: 0 });
      release();
      await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED');
      await pause(300);
      expect(received('stalled after the reply')).toHaveLength(1);
      expect((await copiesOf(id)).map((copy) => [copy.state, copy.attempts, copy.claimedUntil])).toEqual([['DELIVERED', 1, null]]);
      const events = await db.prisma.recipientEvent.findMany({ where: { messageId: id, type: { not: 'SCANNED' } } });
      expect(events.map((event) => event.type)).toEqual(['DELIVERED']);
    } finally {
      resume();
      release?.();
      runs.mockRestore();
      renewal.mockRestore();
    }
  });

  it('should hand a deferred copy to the queue on the back-off schedule and deliver it once the downstream is back', async () => {
    const id = await send('deferred inline', ['hal@down.example']);
    const first = await waitFor(async () => ((await copiesOf(id))[0]?.state === 'DEFERRED' ? (await copiesOf(id))[0] : null));
    expect(first).toMatchObject({ attempts: 1, claimedUntil: null, lastError: expect.stringMatching(/ECONNREFUSED|connect/i) });
    // The in-process attempt was the first: the job waits initialRetryDelayMs · 2⁰, as the job's own deferral would.
    const job = await waitFor(async () => queue.getJob(id));
    expect(job.opts.delay).toBe(400);
    expect(job.data).toEqual({ messageId: id, recipients: ['hal@down.example'] });
    // The job's own retries keep doubling (attempt 2 after 400 ms, attempt 3 after 800 ms).
    await waitFor(async () => ((await copiesOf(id))[0]?.attempts ?? 0) >= 3, 10_000);

    await db.prisma.domain.update({ where: { id: down.id }, data: { downstreamPort: sink.port } });
    await waitFor(async () => (await copiesOf(id))[0]?.state === 'DELIVERED', 15_000);
    await pause(500);
    expect(received('deferred inline')).toHaveLength(1);
    const events = await db.prisma.recipientEvent.findMany({ where: { messageId: id }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.type).filter((type) => type !== 'SCANNED')).toEqual([...Array(events.length - 2).fill('DEFERRED'), 'DELIVERED']);
  });

  it('should queue what does not fit (concurrency 2, backlog 1) and still deliver every message exactly once', async () => {
    let release!: () => void;
    sink.hold = new Promise((resolve) => (release = resolve));
    const subjects = ['full 1', 'full 2', 'full 3', 'full 4'];
    const ids: string[] = [];
    for (const subject of subjects) {
      ids.push(await send(subject, ['ivy@acme.example']));
    }
    await waitFor(async () => sink.held >= 2);
    expect(scanner.get(PostCommitDeliveries).load).toMatchObject({ running: 2, waiting: 1 });
    // The fourth found no room: its delivery job exists (the worker of this process runs it), added once the claim its
    // store made for the in-process run was released (else the job would find its copy claimed and leave it).
    await waitFor(async () => queue.getJob(ids[3]!));
    expect(await queue.getJob(ids[0]!)).toBeUndefined();
    release();
    await waitFor(async () => (await db.prisma.message.findMany({ where: { id: { in: ids } } })).every((row) => row.deliveryState === 'DELIVERED'));
    await pause(300);
    for (const subject of subjects) {
      expect(received(subject)).toHaveLength(1);
    }
  });
});

describe('gateway front without the delivery role (SCANNER_ROLE=smtp)', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let scanner: INestApplication;
  let queue: Queue;
  const sink = new SmtpSink();

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    const factories = new TestFactories(db.prisma);
    await sink.start();
    const account = await factories.newAccount({ monitorOnly: false });
    await factories.newDomain(account, { name: 'acme.example', mode: 'GATEWAY', downstreamHost: '127.0.0.1', downstreamPort: sink.port, downstreamVerifyCert: false });
    const smtpPort = await freePort();
    const zone = new ZoneDnsResolver({ 'sender.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } });
    scanner = await createScanner(loadConfig('scanner', await appTestEnv(db, redis, { SMTP_HOSTNAME: HOST, SCANNER_SMTP_PORT: String(smtpPort), SCANNER_ROLE: 'smtp' })), false, {
      dnsLookup: async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) }),
    });
    await scanner.init();
    queue = new Queue(QueueName.Delivery, { connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port || 6379) }, prefix: redis.prefix });
    const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, name: 'client.sender.example' });
    await transport.sendMail({ envelope: { from: 'alice@sender.example', to: ['bob@acme.example'] }, raw: message('front only', 'bob@acme.example') });
    transport.close();
  });

  afterAll(() => tearDown(queue, scanner, sink, redis, db));

  it('should keep enqueueing the delivery job and deliver nothing itself', async () => {
    const stored = await db.prisma.message.findFirstOrThrow({ where: { subject: 'front only' } });
    const job = await queue.getJob(stored.id);
    expect(job?.data).toEqual({ messageId: stored.id, recipients: ['bob@acme.example'] });
    expect(await job?.getState()).toBe('waiting');
    await pause(500);
    expect(sink.received).toHaveLength(0);
    expect((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: stored.id } })).state).toBe('QUEUED');
  });
});
