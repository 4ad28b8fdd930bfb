import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { DeliveryRepository, observeStatements, PostgresRawMessageStore, type IncomingMessage, type PrismaService } from '@mailwarden/db';

/** DeliveryRepository.claimCopies against PostgreSQL: at most one live claim per copy, whatever runs at once (issue 20). */
describe('delivery claims', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let deliveries: DeliveryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    deliveries = new DeliveryRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function gatewayMessage(recipients: string[]): Promise<{ id: string; receivedAt: Date }> {
    const account = await factories.newAccount({ monitorOnly: false });
    const message = await factories.newMessage(account, { source: 'GATEWAY', envelopeTo: recipients });
    await db.prisma.recipientDelivery.createMany({ data: recipients.map((recipient) => ({ messageId: message.id, recipient, action: 'DELIVER' as const, state: 'QUEUED' as const })) });
    return message;
  }

  it('should give each waiting copy to exactly one of many concurrent claims, with the copy as it was and the message time', async () => {
    const recipients = ['a@customer.example', 'b@customer.example', 'c@customer.example'];
    const message = await gatewayMessage(recipients);
    await db.prisma.recipientDelivery.update({ where: { messageId_recipient: { messageId: message.id, recipient: 'b@customer.example' } }, data: { state: 'DEFERRED', attempts: 2, lastError: '451 busy' } });
    const claims = await Promise.all(Array.from({ length: 12 }, () => deliveries.claimCopies(message.id, recipients.map((recipient) => recipient.toUpperCase()), 60_000)));
    const won = claims.flatMap((claim) => claim.copies.map((copy) => copy.recipient)).sort();
    expect(won).toEqual(recipients);
    const winner = claims.find((claim) => claim.copies.length > 0)!;
    expect(winner.receivedAt.getTime()).toBe(message.receivedAt.getTime());
    expect(claims.flatMap((claim) => claim.copies).find((copy) => copy.recipient === 'b@customer.example')).toEqual({
      recipient: 'b@customer.example',
      action: 'DELIVER',
      state: 'DEFERRED',
      subjectTag: null,
      attempts: 2,
      lastError: '451 busy',
    });
  });

  it('should not claim a copy that is delivered, held or claimed, and claim it again once its claim has ended or expired', async () => {
    const message = await gatewayMessage(['d@customer.example', 'e@customer.example', 'f@customer.example']);
    await db.prisma.recipientDelivery.update({ where: { messageId_recipient: { messageId: message.id, recipient: 'f@customer.example' } }, data: { state: 'QUARANTINED' } });
    expect((await deliveries.claimCopies(message.id, ['d@customer.example', 'e@customer.example', 'f@customer.example'], 60_000)).copies.map((copy) => copy.recipient)).toEqual([
      'd@customer.example',
      'e@customer.example',
    ]);
    expect((await deliveries.claimCopies(message.id, ['d@customer.example', 'e@customer.example'], 60_000)).copies).toEqual([]);

    // d: recorded (DELIVERED ends the claim, and a delivered copy is never claimed again); e: released by its run.
    await deliveries.updateDeliveries(message.id, ['d@customer.example'], { state: 'DELIVERED', lastError: null, attempted: true });
    await deliveries.releaseClaims(message.id, ['e@customer.example']);
    const rows = await db.prisma.recipientDelivery.findMany({ where: { messageId: message.id }, orderBy: { recipient: 'asc' } });
    expect(rows.map((row) => [row.recipient, row.state, row.claimedUntil])).toEqual([
      ['d@customer.example', 'DELIVERED', null],
      ['e@customer.example', 'QUEUED', null],
      ['f@customer.example', 'QUARANTINED', null],
    ]);
    expect((await deliveries.claimCopies(message.id, ['d@customer.example', 'e@customer.example'], 60_000)).copies.map((copy) => copy.recipient)).toEqual(['e@customer.example']);

    // A claim whose run died: taken again once its lease has passed, not before; the sweeper skips it meanwhile.
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: message.id, recipient: 'e@customer.example' }, data: { updatedAt: new Date(Date.now() - 600_000) } });
    expect(await deliveries.findStalled(new Date(Date.now() - 60_000))).not.toContain(message.id);
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: message.id, recipient: 'e@customer.example' }, data: { claimedUntil: new Date(Date.now() - 1), updatedAt: new Date(Date.now() - 600_000) } });
    expect(await deliveries.findStalled(new Date(Date.now() - 60_000))).toContain(message.id);
    expect((await deliveries.claimCopies(message.id, ['e@customer.example'], 60_000)).copies.map((copy) => copy.recipient)).toEqual(['e@customer.example']);
  });

  it('should sum up the message state from every copy when its copies are recorded at once (one round trip each)', async () => {
    const recipients = ['h@customer.example', 'i@customer.example', 'j@customer.example', 'k@customer.example'];
    const messages = await Promise.all(Array.from({ length: 12 }, () => gatewayMessage(recipients)));
    // Each copy recorded by its own call, all at once: whichever commits last must see the others (no lost summary).
    await Promise.all(messages.flatMap((message) => recipients.map((recipient) => deliveries.updateDeliveries(message.id, [recipient], { state: 'DELIVERED', lastError: null, attempted: true, reply: '250 ok' }))));
    const rows = await db.prisma.message.findMany({ where: { id: { in: messages.map((message) => message.id) } } });
    expect(rows.map((row) => row.deliveryState)).toEqual(rows.map(() => 'DELIVERED'));
    const events = await db.prisma.recipientEvent.findMany({ where: { messageId: { in: messages.map((message) => message.id) } } });
    expect(events).toHaveLength(messages.length * recipients.length);
    expect(events.every((event) => event.type === 'DELIVERED' && event.reply === '250 ok' && (event.detail as { attempt?: number }).attempt === 1)).toBe(true);
    // A state that is no step in the history (QUEUED) records none; a message id without a time still finds its row.
    await deliveries.updateDeliveries(messages[0]!.id, ['h@customer.example'], { state: 'QUEUED' });
    expect(await db.prisma.recipientEvent.count({ where: { messageId: messages[0]!.id } })).toBe(recipients.length);
    expect((await db.prisma.message.findUniqueOrThrow({ where: { id: messages[0]!.id } })).deliveryState).toBe('QUEUED');
  });

  it('should claim the QUEUED copies in the store statement itself when asked (the in-process delivery), and no other copy', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const input: IncomingMessage = {
      accountId: account.id,
      source: 'GATEWAY',
      direction: 'INBOUND',
      envelopeFrom: 'alice@partner.example',
      envelopeTo: ['l@customer.example', 'm@customer.example'],
      subject: 'claimed as stored',
      raw: Buffer.from('Subject: claimed as stored\r\n\r\nbody\r\n'),
    };
    const verdict = (recipient: string, action: 'DELIVER' | 'QUARANTINE') => ({ recipient, checks: [], failedCheck: null, decidedAction: action, appliedAction: action, enforced: true, reasons: [], skippedReason: null });
    const copies = [
      { recipient: 'l@customer.example', action: 'DELIVER' as const, state: 'QUEUED' as const },
      { recipient: 'm@customer.example', action: 'QUARANTINE' as const, state: 'QUARANTINED' as const },
    ];
    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const [stored] = await deliveries
      .storeProcessedMany([{ input, verdicts: [verdict('l@customer.example', 'DELIVER'), verdict('m@customer.example', 'QUARANTINE')], status: 'SCANNED', copies, claimLeaseMs: 60_000 }])
      .finally(() => observeStatements(null));
    expect(statements).toHaveLength(1);
    expect(stored!.status).toBe('fulfilled');
    const { id, receivedAt } = (stored as PromiseFulfilledResult<{ id: string; receivedAt: Date }>).value;
    // The message time as stored (the Received field of the copies the run relays), without reading the row back.
    expect(receivedAt.getTime()).toBe((await db.prisma.message.findFirstOrThrow({ where: { id } })).receivedAt.getTime());
    const rows = await db.prisma.recipientDelivery.findMany({ where: { messageId: id }, orderBy: { recipient: 'asc' } });
    expect(rows.map((row) => [row.recipient, row.state, row.claimedUntil !== null])).toEqual([
      ['l@customer.example', 'QUEUED', true],
      ['m@customer.example', 'QUARANTINED', false],
    ]);
    expect(rows[0]!.claimedUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    // Exactly received_at + the lease (one now() in the statement): the value the run's renewals compare against.
    expect(rows[0]!.claimedUntil!.getTime()).toBe(receivedAt.getTime() + 60_000);
    // Nobody else gets the claimed copy (a job, the sweeper) until the run records it or releases it.
    expect((await deliveries.claimCopies(id, ['l@customer.example'], 60_000)).copies).toEqual([]);
    expect(await deliveries.findStalled(new Date(Date.now() + 1_000))).not.toContain(id);
    await deliveries.releaseClaims(id, ['l@customer.example']);
    expect((await deliveries.claimCopies(id, ['l@customer.example'], 60_000)).copies.map((copy) => copy.recipient)).toEqual(['l@customer.example']);

    // Without a lease (no in-process delivery: the job claims them) the copies are stored unclaimed.
    const [plain] = await deliveries.storeProcessedMany([{ input: { ...input, subject: 'unclaimed' }, verdicts: [verdict('l@customer.example', 'DELIVER')], status: 'SCANNED', copies: [copies[0]!] }]);
    const plainId = (plain as PromiseFulfilledResult<{ id: string }>).value.id;
    expect((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: plainId } })).claimedUntil).toBeNull();
  });

  it('should renew, in one statement, only the claims whose value is still the one their holder set, and release only those', async () => {
    const one = await gatewayMessage(['n@customer.example', 'o@customer.example']);
    const two = await gatewayMessage(['n@customer.example']);
    const mine = await deliveries.claimCopies(one.id, ['n@customer.example', 'o@customer.example'], 60_000);
    const theirs = await deliveries.claimCopies(two.id, ['n@customer.example'], 60_000);
    expect(mine.claimedUntil!.getTime()).toBe((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: one.id, recipient: 'o@customer.example' } })).claimedUntil!.getTime());
    const held = (claim: typeof mine, messageId: string) => claim.copies.map((copy) => ({ messageId, recipient: copy.recipient, claimedUntil: claim.claimedUntil! }));

    const statements: string[] = [];
    observeStatements((text) => statements.push(text));
    const renewed = await deliveries.renewClaims([...held(mine, one.id), ...held(theirs, two.id)], 120_000).finally(() => observeStatements(null));
    expect(statements).toHaveLength(1);
    expect(renewed.map((row) => [row.messageId, row.recipient]).sort()).toEqual([
      [one.id, 'n@customer.example'],
      [one.id, 'o@customer.example'],
      [two.id, 'n@customer.example'],
    ].sort());
    const until = renewed[0]!.claimedUntil;
    expect(renewed.every((row) => row.claimedUntil.getTime() === until.getTime())).toBe(true);
    expect(until.getTime()).toBeGreaterThan(mine.claimedUntil!.getTime());
    // The previous value is no longer the claim: a holder that missed this renewal renews and releases nothing.
    expect(await deliveries.renewClaims(held(mine, one.id), 120_000)).toEqual([]);
    await deliveries.releaseClaims(one.id, ['n@customer.example'], mine.claimedUntil!);
    expect((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: one.id, recipient: 'n@customer.example' } })).claimedUntil!.getTime()).toBe(until.getTime());

    // A claim that ran out is lost, even before anyone took it; one taken over since has another run's value.
    await db.prisma.recipientDelivery.updateMany({ where: { messageId: one.id, recipient: 'n@customer.example' }, data: { claimedUntil: new Date(Date.now() - 1) } });
    const expired = (await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: one.id, recipient: 'n@customer.example' } })).claimedUntil!;
    expect(await deliveries.renewClaims([{ messageId: one.id, recipient: 'n@customer.example', claimedUntil: expired }], 120_000)).toEqual([]);
    const takeover = await deliveries.claimCopies(one.id, ['n@customer.example'], 60_000);
    expect(takeover.copies).toHaveLength(1);
    expect(takeover.claimedUntil!.getTime()).toBeGreaterThan(expired.getTime());
    expect(await deliveries.renewClaims([{ messageId: one.id, recipient: 'n@customer.example', claimedUntil: until }], 120_000)).toEqual([]);
    await deliveries.releaseClaims(one.id, ['n@customer.example'], until);
    expect((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: one.id, recipient: 'n@customer.example' } })).claimedUntil!.getTime()).toBe(takeover.claimedUntil!.getTime());

    // A recorded copy (claim ended) is not renewed; the holder's release of its own value ends the claim.
    await deliveries.updateDeliveries(two.id, ['n@customer.example'], { state: 'DELIVERED', lastError: null, attempted: true });
    expect(await deliveries.renewClaims([{ messageId: two.id, recipient: 'n@customer.example', claimedUntil: until }], 120_000)).toEqual([]);
    await deliveries.releaseClaims(one.id, ['o@customer.example'], until);
    expect((await db.prisma.recipientDelivery.findFirstOrThrow({ where: { messageId: one.id, recipient: 'o@customer.example' } })).claimedUntil).toBeNull();
    expect(await deliveries.renewClaims([], 120_000)).toEqual([]);
  });

  it('should claim nothing of another message, and nothing for a message that does not exist', async () => {
    const mine = await gatewayMessage(['g@customer.example']);
    const theirs = await gatewayMessage(['g@customer.example']);
    expect((await deliveries.claimCopies(mine.id, ['g@customer.example'], 60_000)).copies).toHaveLength(1);
    expect((await deliveries.claimCopies(theirs.id, ['g@customer.example'], 60_000)).copies).toHaveLength(1);
    expect((await deliveries.claimCopies('0190a0a0-0000-7000-8000-000000000000', ['g@customer.example'], 60_000)).copies).toEqual([]);
  });
});
