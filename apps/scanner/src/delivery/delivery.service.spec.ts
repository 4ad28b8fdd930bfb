import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import type { ScannerConfig } from '@mailwarden/config';
import type { DeliveryRepository, DkimKeyRepository, MessageForDelivery, MessageRepository, RecipientDelivery } from '@mailwarden/db';
import { dkimDnsRecord, headerValues, sealCopy } from '@mailwarden/delivery';
import { DnsError, type DnsResolveFunction } from '@mailwarden/sender-checks';
import { DeliveryClaims } from './delivery-claims.service';
import { DEFAULT_DELIVERY_TUNING } from './delivery.options';
import { DeliveryService } from './delivery.service';
import { relayMessage } from './smtp-relay';
import { DeliveryStatusJob, type JobQueues } from '@mailwarden/queue';

jest.mock('./smtp-relay', () => ({ ...jest.requireActual('./smtp-relay'), relayMessage: jest.fn() }));
const relay = relayMessage as jest.MockedFunction<typeof relayMessage>;

const copy = (recipient: string, overrides: Partial<RecipientDelivery> = {}): RecipientDelivery => ({
  messageId: 'm1',
  recipient,
  action: 'DELIVER',
  state: 'QUEUED',
  subjectTag: null,
  attempts: 0,
  lastError: null,
  lastAttemptAt: null,
  deliveredAt: null,
  claimedUntil: null,
  updatedAt: new Date(),
  ...overrides,
});

function setup(
  deliveries: RecipientDelivery[],
  receivedAt = new Date(),
  source = 'GATEWAY',
  arc?: { config: Partial<ScannerConfig>; resolver: DnsResolveFunction; raw: Buffer },
) {
  const message = {
    id: 'm1',
    source,
    envelopeFrom: 'a@sender.example',
    receivedAt,
    helo: 'client.example',
    clientIp: '192.0.2.1',
    metadata: {},
    rawMessageId: 'r1',
    account: { domains: [{ name: 'acme.example', mode: 'GATEWAY', downstreamHost: 'smart.acme.example', downstreamPort: 25, downstreamRequireTls: true, downstreamVerifyCert: true }] },
    verdicts: [],
    deliveries,
  } as unknown as MessageForDelivery;
  const repository = {
    findForDelivery: jest.fn(async () => message),
    updateDeliveries: jest.fn(async () => 'QUEUED'),
    // The claim as PostgreSQL makes it (DeliveryRepository.claimCopies, int-specs): the waiting copies asked for.
    claimCopies: jest.fn(async (_id: string, recipients: readonly string[]) => ({
      receivedAt,
      claimedUntil: new Date(Date.now() + DEFAULT_DELIVERY_TUNING.claimLeaseMs),
      copies: deliveries.filter((candidate) => recipients.includes(candidate.recipient) && (candidate.state === 'QUEUED' || candidate.state === 'DEFERRED')),
    })),
    releaseClaims: jest.fn(async () => undefined),
    queueRelease: jest.fn(),
    isReleased: jest.fn(async () => true),
  };
  const messages = { readRaw: jest.fn(async () => arc?.raw ?? Buffer.from('From: a@sender.example\r\nSubject: hi\r\n\r\nbody\r\n')) };
  const queue = { add: jest.fn() };
  const tuning = { ...DEFAULT_DELIVERY_TUNING, initialRetryDelayMs: 1_000, maxRetryDelayMs: 8_000, retryWindowMs: 3_600_000 };
  const service = new DeliveryService(
    repository as unknown as DeliveryRepository,
    messages as unknown as MessageRepository,
    queue as unknown as JobQueues,
    { SMTP_HOSTNAME: 'mx.mailwarden.test', OUTBOUND_SMART_HOST: '', ...arc?.config } as ScannerConfig,
    tuning,
    arc?.resolver ?? (async () => []),
    { findSigningKey: jest.fn(async () => null) } as unknown as DkimKeyRepository,
    new DeliveryClaims(repository as unknown as DeliveryRepository, tuning),
  );
  return { service, repository, queue };
}

describe(DeliveryService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => relay.mockReset());

  it('should never send a copy that is already delivered (a redelivered job)', async () => {
    const { service } = setup([copy('bob@acme.example', { state: 'DELIVERED' })]);
    const run = await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] });
    expect(relay).not.toHaveBeenCalled();
    expect(run).toEqual({ delivered: [], failed: [], deferred: [], retryInMs: 0 });
  });

  it('should defer on a temporary failure with exponential back-off capped at the maximum', async () => {
    relay.mockResolvedValue({ accepted: [], failed: [{ recipient: 'bob@acme.example', error: 'connect ECONNREFUSED', permanent: false }] });
    const { service, repository } = setup([copy('bob@acme.example', { state: 'DEFERRED', attempts: 2 })]);
    const run = await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] });
    expect(run.deferred).toEqual(['bob@acme.example']);
    expect(run.retryInMs).toBe(4_000); // third attempt: 1 s · 2²
    expect(repository.updateDeliveries).toHaveBeenCalledWith('m1', ['bob@acme.example'], { state: 'DEFERRED', lastError: 'connect ECONNREFUSED', attempted: true, downstream: 'smart.acme.example:25' });

    const capped = setup([copy('bob@acme.example', { state: 'DEFERRED', attempts: 10 })]);
    expect((await capped.service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] })).retryInMs).toBe(8_000);
  });

  it('should fail the copies still waiting after the retry window and queue a DSN, without trying again', async () => {
    const { service, repository, queue } = setup([copy('bob@acme.example', { state: 'DEFERRED', attempts: 9, lastError: '451 4.3.0 busy' })], new Date(Date.now() - 3_700_000));
    const run = await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] });
    expect(relay).not.toHaveBeenCalled();
    expect(run.failed).toEqual(['bob@acme.example']);
    expect(repository.updateDeliveries).toHaveBeenCalledWith('m1', ['bob@acme.example'], { state: 'FAILED', lastError: 'delivery time expired; last error: 451 4.3.0 busy' });
    expect(queue.add).toHaveBeenCalledWith(DeliveryStatusJob, { messageId: 'm1', recipients: ['bob@acme.example'] });
  });

  it('should relay the copies its store claimed without claiming them again, and release what it did not get to send', async () => {
    relay.mockResolvedValue({ accepted: ['bob@acme.example'], failed: [], reply: '250 ok' });
    const { service, repository } = setup([]);
    const message = (await repository.findForDelivery()) as MessageForDelivery;
    const run = await service.deliverStored({ message, raw: Buffer.from('Subject: hi\r\n\r\nbody\r\n'), recipients: ['bob@acme.example'], claimed: { receivedAt: new Date(), copies: [copy('bob@acme.example')] } });
    expect(run.delivered).toEqual(['bob@acme.example']);
    expect(repository.claimCopies).not.toHaveBeenCalled();
    expect(repository.releaseClaims).not.toHaveBeenCalled();

    // A run that fails before its relay (here: recording that the copy has no route) releases the claim it was given.
    const failing = setup([]);
    failing.repository.updateDeliveries.mockRejectedValue(new Error('database down'));
    const withoutRoute = { ...message, account: { domains: [] } } as unknown as MessageForDelivery;
    const storedAt = new Date();
    await expect(failing.service.deliverStored({ message: withoutRoute, raw: Buffer.from('x'), recipients: ['carol@acme.example'], claimed: { receivedAt: storedAt, copies: [copy('carol@acme.example')] } })).rejects.toThrow('database down');
    expect(failing.repository.claimCopies).not.toHaveBeenCalled();
    // Only the claim the store set (received_at + the lease): never one another run took since.
    expect(failing.repository.releaseClaims).toHaveBeenCalledWith('m1', ['carol@acme.example'], new Date(storedAt.getTime() + DEFAULT_DELIVERY_TUNING.claimLeaseMs));
  });

  it('should skip a release job whose quarantine item is no longer released', async () => {
    const { service, repository } = setup([copy('bob@acme.example', { state: 'QUARANTINED' })]);
    repository.isReleased.mockResolvedValue(false);
    await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'], quarantineItemId: 'q1' });
    expect(repository.queueRelease).not.toHaveBeenCalled();
    expect(relay).not.toHaveBeenCalled();
  });

  it('should never deliver a journal copy, even when a release job asks for it', async () => {
    const { service, repository } = setup([copy('bob@acme.example', { state: 'QUEUED' })], new Date(), 'JOURNAL');
    await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'], quarantineItemId: 'q1' });
    expect(repository.queueRelease).not.toHaveBeenCalled();
    expect(relay).not.toHaveBeenCalled();
  });

  describe('ARC sealing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mw-delivery-arc-'));
    const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ours = pem();
    const forwarder = pem();
    const keyFile = path.join(dir, 'arc.pem');
    writeFileSync(keyFile, ours);
    const config = { ARC_SEAL_DOMAIN: 'mailwarden.test', ARC_SEAL_SELECTOR: 'arc', ARC_SEAL_KEY_FILE: keyFile };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function forwarded(): Promise<Buffer> {
      const raw = Buffer.from('From: a@sender.example\r\nTo: bob@acme.example\r\nSubject: hi\r\n\r\nbody\r\n');
      return (await sealCopy(raw, { domain: 'forwarder.example', selector: 'fwd', privateKey: forwarder }, { authservId: 'mx.forwarder.example', checks: [], chain: 'none' })).raw;
    }
    const relayedSeals = () => headerValues(relay.mock.calls[0]![1].raw, 'ARC-Seal').map((value) => value.replace(/\s+/g, ' '));

    it('should add cv=pass over a chain that validates', async () => {
      relay.mockResolvedValue({ accepted: ['bob@acme.example'], failed: [] });
      const resolver: DnsResolveFunction = async (name) => {
        if (name === 'fwd._domainkey.forwarder.example') {
          return [[dkimDnsRecord(forwarder)]];
        }
        throw new DnsError('ENOTFOUND', name, 'TXT');
      };
      const { service } = setup([copy('bob@acme.example')], new Date(), 'GATEWAY', { config, resolver, raw: await forwarded() });
      expect((await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] })).delivered).toEqual(['bob@acme.example']);
      expect(relayedSeals()).toEqual([expect.stringMatching(/^i=2; .*cv=pass; d=mailwarden\.test; s=arc;/), expect.stringMatching(/^i=1; /)]);
    });

    it('should relay unsealed, not with a guessed cv=, when DNS cannot validate the received chain', async () => {
      relay.mockResolvedValue({ accepted: ['bob@acme.example'], failed: [] });
      const resolver: DnsResolveFunction = async (name) => {
        throw new DnsError('ETIMEOUT', name, 'TXT');
      };
      const { service } = setup([copy('bob@acme.example')], new Date(), 'GATEWAY', { config, resolver, raw: await forwarded() });
      expect((await service.deliver({ messageId: 'm1', recipients: ['bob@acme.example'] })).delivered).toEqual(['bob@acme.example']);
      expect(relayedSeals()).toEqual([expect.stringMatching(/^i=1; /)]);
    });
  });

  describe('outbound relay routes (issue 16)', () => {
    const mx: Record<string, unknown> = {
      'far.example': [{ exchange: 'mx2.far.example', priority: 20 }, { exchange: 'mx1.far.example', priority: 10 }],
      'nomail.example': [{ exchange: '.', priority: 0 }],
    };
    const resolver: DnsResolveFunction = async (name, rrtype) => {
      if (rrtype === 'MX' && name in mx) {
        return mx[name] as never;
      }
      throw new DnsError(name === 'implicit.example' ? 'ENODATA' : name === 'slow.example' ? 'ETIMEOUT' : 'ENOTFOUND', name, rrtype);
    };
    const raw = Buffer.from('From: a@sender.example\r\nSubject: out\r\n\r\nbody\r\n');
    /** A message the outbound relay accepted (direction OUTBOUND, metadata.gateway.outbound), each relay accepting all. */
    const outbound = async (recipients: string[]) => {
      const context = setup(recipients.map((recipient) => copy(recipient)), new Date(), 'GATEWAY', { config: {}, resolver, raw });
      const stored = await context.repository.findForDelivery();
      context.repository.findForDelivery.mockImplementation(async () => ({ ...stored, direction: 'OUTBOUND', metadata: { gateway: { outbound: true } } }) as never);
      relay.mockImplementation(async (_route, { to }) => ({ accepted: to, failed: [] }));
      return context;
    };

    it("should send an outside recipient's copy to its domain's most preferred MX with opportunistic TLS", async () => {
      const context = await outbound(['erin@far.example', 'bob@acme.example']);
      const run = await context.service.deliver({ messageId: 'm1', recipients: ['erin@far.example', 'bob@acme.example'] });
      expect(run.delivered.sort()).toEqual(['bob@acme.example', 'erin@far.example']);
      const routes = relay.mock.calls.map(([route, { to }]) => [route, to]);
      // The account's own domain still goes to its downstream.
      expect(routes).toEqual(
        expect.arrayContaining([
          [{ host: 'mx1.far.example', port: 25, requireTls: false, verifyCert: false }, ['erin@far.example']],
          [expect.objectContaining({ host: 'smart.acme.example' }), ['bob@acme.example']],
        ]),
      );
    });

    it('should fail a null MX and a domain that does not exist for good, defer a DNS failure, and use the implicit MX', async () => {
      const context = await outbound(['a@nomail.example', 'b@gone.example', 'c@slow.example', 'd@implicit.example']);
      const run = await context.service.deliver({ messageId: 'm1', recipients: ['a@nomail.example', 'b@gone.example', 'c@slow.example', 'd@implicit.example'] });
      expect(run.failed.sort()).toEqual(['a@nomail.example', 'b@gone.example']);
      expect(run.deferred).toEqual(['c@slow.example']);
      expect(run.delivered).toEqual(['d@implicit.example']);
      expect(relay.mock.calls.map(([route]) => route.host)).toEqual(['implicit.example']);
      expect(context.repository.updateDeliveries).toHaveBeenCalledWith('m1', ['a@nomail.example'], expect.objectContaining({ state: 'FAILED', lastError: expect.stringMatching(/^550 5\.1\.10 nomail\.example accepts no mail/) }));
      expect(context.repository.updateDeliveries).toHaveBeenCalledWith('m1', ['c@slow.example'], expect.objectContaining({ state: 'DEFERRED', lastError: expect.stringMatching(/^451 4\.4\.3 .*ETIMEOUT/) }));
      expect(context.queue.add).toHaveBeenCalledWith(DeliveryStatusJob, expect.objectContaining({ recipients: expect.arrayContaining(['a@nomail.example', 'b@gone.example']) }));
    });

    it('should not route an outside recipient of a message that was not relayed outbound (it waits for a downstream)', async () => {
      relay.mockImplementation(async (_route, { to }) => ({ accepted: to, failed: [] }));
      const context = setup([copy('erin@far.example')], new Date(), 'GATEWAY', { config: {}, resolver, raw });
      const run = await context.service.deliver({ messageId: 'm1', recipients: ['erin@far.example'] });
      expect(run.deferred).toEqual(['erin@far.example']);
      expect(relay).not.toHaveBeenCalled();
    });
  });
});
