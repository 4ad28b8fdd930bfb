import { createHash } from 'node:crypto';
import { createTestDatabase, TestFactories, type TestDatabase } from '@mailwarden/testing';
import { DeliveryRepository, type IncomingMessage, MessageRepository, PostgresRawMessageStore, type PrismaService, StatisticsRepository, storedScanTarget, VERDICT_TOPIC, type VerdictInput } from '@mailwarden/db';

/** The single-statement writers (message-writes.sql.ts) against the migrated schema: every column, atomicity, idempotence. */
describe('message writes', () => {
  let db: TestDatabase;
  let factories: TestFactories;
  let messages: MessageRepository;
  let deliveries: DeliveryRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    factories = new TestFactories(db.prisma);
    const prisma = db.prisma as unknown as PrismaService;
    messages = new MessageRepository(prisma, new PostgresRawMessageStore());
    deliveries = new DeliveryRepository(prisma, new PostgresRawMessageStore());
  });

  afterAll(async () => {
    await db?.drop();
  });

  // Every byte value, CR/LF, NUL and 8-bit: the stored original must come back byte for byte.
  const raw = Buffer.concat([Buffer.from('From: Alice <Alice@Partner.example>\r\nSubject: x\r\n\r\n'), Buffer.from(Array.from({ length: 256 }, (_, byte) => byte))]);
  const incoming = (accountId: string, overrides: Partial<IncomingMessage> = {}): IncomingMessage => ({
    accountId,
    source: 'JOURNAL',
    direction: 'INBOUND',
    envelopeFrom: 'Alice@Partner.example',
    envelopeTo: ['Bob@Customer.example', 'carol@customer.example'],
    headerFrom: 'Alice@Partner.example',
    subject: 'Grüße',
    messageIdHeader: '<m1@partner.example>',
    clientIp: '203.0.113.7',
    helo: 'mx.partner.example',
    dedupKey: null,
    metadata: { journal: { format: 'google', recipients: [{ address: 'bob@customer.example', kind: 'to' }] } },
    raw,
    ...overrides,
  });
  const verdict = (recipient: string, decidedAction: VerdictInput['decidedAction'], extra: Partial<VerdictInput> = {}): VerdictInput => ({
    recipient,
    checks: [{ check: 'dmarc', status: 'fail', evidence: { policy: 'quarantine' } }],
    failedCheck: 'dmarc',
    decidedAction,
    appliedAction: null,
    enforced: false,
    reasons: [{ kind: 'sender-check', detail: 'dmarc=fail' }],
    skippedReason: null,
    ...extra,
  });

  it('should store a received message with every column and the original byte for byte', async () => {
    const account = await factories.newAccount();
    const { message, duplicate } = await messages.storeIncoming(incoming(account.id));
    expect(duplicate).toBe(false);
    const row = await db.prisma.message.findUniqueOrThrow({ where: { id: message.id }, include: { rawMessage: true } });
    expect(row).toMatchObject({
      accountId: account.id,
      source: 'JOURNAL',
      direction: 'INBOUND',
      envelopeFrom: 'alice@partner.example',
      envelopeTo: ['bob@customer.example', 'carol@customer.example'],
      headerFrom: 'alice@partner.example',
      subject: 'Grüße',
      messageIdHeader: '<m1@partner.example>',
      size: raw.byteLength,
      clientIp: '203.0.113.7',
      helo: 'mx.partner.example',
      dedupKey: null,
      scanStatus: 'PENDING',
      scannedAt: null,
      deliveryState: 'NOT_APPLICABLE',
      metadata: { journal: { format: 'google', recipients: [{ address: 'bob@customer.example', kind: 'to' }] } },
    });
    expect(Buffer.from(row.rawMessage.content).equals(raw)).toBe(true);
    expect(row.rawMessage).toMatchObject({ size: raw.byteLength, sha256: createHash('sha256').update(raw).digest('hex') });

    // The scan worker's one-query read gives the same Message as Prisma, and the same bytes.
    const { rawMessage: _bytes, ...asPrismaReadsIt } = row;
    const loaded = await messages.loadForScan(message.id);
    expect(loaded?.message).toEqual(asPrismaReadsIt);
    expect(loaded?.raw?.equals(raw)).toBe(true);
    expect(await messages.loadForScan('00000000-0000-4000-8000-000000000000')).toBeNull();

    // A PENDING message has a scan state row (migration 20261207120000); each scan's read counts its attempt there,
    // in the same statement, and the message row is not updated.
    expect(await db.prisma.messageScan.findUnique({ where: { messageId: message.id } })).toEqual({ messageId: message.id, accountId: account.id, receivedAt: row.receivedAt, attempts: 0, lastError: null });
    const started = await messages.startScan(message.id);
    expect(started?.message).toEqual(asPrismaReadsIt);
    expect(started?.raw?.equals(raw)).toBe(true);
    expect(started?.attempt).toEqual({ attempts: 1, lastError: null });
    await messages.recordScanError(message.id, 'boom');
    expect((await messages.startScan(message.id))?.attempt).toEqual({ attempts: 2, lastError: 'boom' });
    expect(await messages.findPendingScan(new Date(Date.now() + 60_000), 100_000)).toContainEqual({ id: message.id, accountId: account.id });
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ scanAttempts: 0, scanError: null });
    expect(await messages.startScan('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('should let the storing process scan a copy without reading it back: its scan target is the row, its attempt counted alone', async () => {
    const account = await factories.newAccount();
    const input = incoming(account.id, { headerFrom: 'Alice@Partner.example', clientIp: null });
    const { message } = await messages.storeIncoming(input);
    const loaded = await messages.loadForScan(message.id);
    const target = storedScanTarget(message.id, input);
    expect(target).toEqual({
      id: loaded!.message.id,
      accountId: loaded!.message.accountId,
      source: loaded!.message.source,
      direction: loaded!.message.direction,
      envelopeFrom: loaded!.message.envelopeFrom,
      envelopeTo: loaded!.message.envelopeTo,
      headerFrom: loaded!.message.headerFrom,
      clientIp: loaded!.message.clientIp,
      helo: loaded!.message.helo,
    });
    expect(await messages.countScanAttempt(message.id)).toEqual({ attempts: 1, lastError: null });
    await messages.recordScanError(message.id, 'dns timeout');
    expect(await messages.countScanAttempt(message.id)).toEqual({ attempts: 2, lastError: 'dns timeout' });
    // Once the verdict ends the scan, a late attempt finds nothing to count: the message is not PENDING any more.
    expect(await messages.saveVerdicts(target, [verdict('bob@customer.example', 'DELIVER', { failedCheck: null })])).toEqual({ alreadyScanned: false });
    expect(await messages.countScanAttempt(message.id)).toBeNull();
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 2 });
    expect(await messages.countScanAttempt('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('should store a copy once when the same dedup key arrives concurrently, leaving no orphan bytes', async () => {
    const account = await factories.newAccount();
    const rawBefore = await db.prisma.rawMessage.count();
    const results = await Promise.all(Array.from({ length: 6 }, () => messages.storeIncoming(incoming(account.id, { dedupKey: '<m1@partner.example>\nbob@customer.example' }))));
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(new Set(results.map((result) => result.message.id)).size).toBe(1);
    expect(await db.prisma.message.count({ where: { accountId: account.id } })).toBe(1);
    expect(await db.prisma.rawMessage.count()).toBe(rawBefore + 1);
  });

  it('should record verdicts and quarantine items once, and claim only a PENDING message', async () => {
    const account = await factories.newAccount();
    const { message } = await messages.storeIncoming(incoming(account.id));
    const expiresAt = new Date('2026-12-25T00:00:00.000Z');
    const verdicts = [verdict('Bob@Customer.example', 'QUARANTINE', { quarantineReason: 'DMARC failed' }), verdict('carol@customer.example', 'DELIVER', { failedCheck: null })];
    expect((await messages.startScan(message.id))?.attempt).toEqual({ attempts: 1, lastError: null });

    expect(await messages.saveVerdicts({ id: message.id, accountId: account.id }, verdicts, 'SCANNED', { quarantineExpiresAt: expiresAt })).toEqual({ alreadyScanned: false });
    expect(await messages.saveVerdicts({ id: message.id, accountId: account.id }, verdicts, 'SCANNED', { quarantineExpiresAt: expiresAt })).toEqual({ alreadyScanned: true });

    const row = await db.prisma.message.findUniqueOrThrow({ where: { id: message.id }, include: { verdicts: { orderBy: { recipient: 'asc' } }, quarantine: true } });
    expect(row.scanStatus).toBe('SCANNED');
    expect(row.scannedAt).toBeInstanceOf(Date);
    // The scan state row is gone with the claim, its attempts kept on the message; a later read counts nothing.
    expect(row.scanAttempts).toBe(1);
    expect(await db.prisma.messageScan.count({ where: { messageId: message.id } })).toBe(0);
    expect((await messages.startScan(message.id))?.attempt).toBeNull();
    expect(row.verdicts).toEqual([
      expect.objectContaining({ recipient: 'bob@customer.example', decidedAction: 'QUARANTINE', appliedAction: null, enforced: false, failedCheck: 'dmarc', checks: verdicts[0]!.checks, reasons: verdicts[0]!.reasons }),
      expect.objectContaining({ recipient: 'carol@customer.example', decidedAction: 'DELIVER', failedCheck: null, skippedReason: null }),
    ]);
    expect(row.quarantine).toEqual([
      expect.objectContaining({ accountId: account.id, verdictId: row.verdicts[0]!.id, recipient: 'bob@customer.example', reason: 'DMARC failed', status: 'HELD', enforced: false, expiresAt }),
    ]);
    // One outbox row for the SIEM export, written by the same statement; the redelivered scan wrote none.
    expect(await db.prisma.outboxEvent.findMany({ where: { aggregateId: message.id } })).toEqual([
      expect.objectContaining({ topic: VERDICT_TOPIC, accountId: account.id, payload: { messageId: message.id }, txId: expect.any(BigInt) }),
    ]);
  });

  it('should let exactly one of concurrent verdict writes of a message win, with one outbox event', async () => {
    const account = await factories.newAccount();
    const { message } = await messages.storeIncoming(incoming(account.id));
    await Promise.all(Array.from({ length: 4 }, () => messages.startScan(message.id)));
    const verdicts = [verdict('bob@customer.example', 'DELIVER', { failedCheck: null }), verdict('carol@customer.example', 'DELIVER', { failedCheck: null })];
    const results = await Promise.all(Array.from({ length: 6 }, () => messages.saveVerdicts({ id: message.id, accountId: account.id }, verdicts)));
    expect(results.filter((result) => !result.alreadyScanned)).toHaveLength(1);
    expect(await db.prisma.verdict.count({ where: { messageId: message.id } })).toBe(2);
    expect(await db.prisma.outboxEvent.count({ where: { aggregateId: message.id } })).toBe(1);
    expect(await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ scanStatus: 'SCANNED', scanAttempts: 4 });
    expect(await db.prisma.messageScan.count({ where: { messageId: message.id } })).toBe(0);
  });

  it('should store a gateway message with its verdicts and copies in one statement, or nothing', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const input = incoming(account.id, { source: 'GATEWAY' });
    const copies = [
      { recipient: 'Bob@Customer.example', action: 'QUARANTINE' as const, state: 'QUARANTINED' as const },
      { recipient: 'carol@customer.example', action: 'TAG_SUBJECT' as const, state: 'QUEUED' as const, subjectTag: '[SUSPICIOUS]' },
    ];
    const enforced = [verdict('bob@customer.example', 'QUARANTINE', { appliedAction: 'QUARANTINE', enforced: true }), verdict('carol@customer.example', 'TAG_SUBJECT', { appliedAction: 'TAG_SUBJECT', enforced: true })];
    const message = await deliveries.storeProcessed(input, enforced, 'SCANNED', copies, { quarantineExpiresAt: null });

    const row = await db.prisma.message.findUniqueOrThrow({ where: { id: message.id }, include: { verdicts: true, quarantine: true } });
    expect(row).toMatchObject({ source: 'GATEWAY', scanStatus: 'SCANNED', deliveryState: 'QUEUED' });
    expect(await db.prisma.messageScan.count({ where: { messageId: message.id } })).toBe(0);
    expect(row.verdicts).toHaveLength(2);
    expect(row.quarantine).toEqual([expect.objectContaining({ recipient: 'bob@customer.example', reason: 'dmarc', enforced: true, expiresAt: null })]);
    const stored = await db.prisma.recipientDelivery.findMany({ where: { messageId: message.id }, orderBy: { recipient: 'asc' } });
    expect(stored).toEqual([
      expect.objectContaining({ recipient: 'bob@customer.example', action: 'QUARANTINE', state: 'QUARANTINED', subjectTag: null, attempts: 0 }),
      expect.objectContaining({ recipient: 'carol@customer.example', action: 'TAG_SUBJECT', state: 'QUEUED', subjectTag: '[SUSPICIOUS]' }),
    ]);

    expect(await db.prisma.outboxEvent.findMany({ where: { aggregateId: message.id } })).toEqual([expect.objectContaining({ topic: VERDICT_TOPIC, accountId: account.id })]);

    // Two verdicts for one recipient break the unique key: the whole statement fails and nothing of it stays.
    const before = { messages: await db.prisma.message.count(), raw: await db.prisma.rawMessage.count(), outbox: await db.prisma.outboxEvent.count() };
    await expect(deliveries.storeProcessed(input, [enforced[0]!, enforced[0]!], 'SCANNED', copies)).rejects.toThrow();
    expect({ messages: await db.prisma.message.count(), raw: await db.prisma.rawMessage.count(), outbox: await db.prisma.outboxEvent.count() }).toEqual(before);
  });

  it('should update copies and sum up the message state in one transaction, also for concurrent updates of one message', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const recipients = ['a@customer.example', 'b@customer.example', 'c@customer.example'];
    const copies = recipients.map((recipient) => ({ recipient, action: 'DELIVER' as const, state: 'QUEUED' as const }));
    const verdicts = recipients.map((recipient) => verdict(recipient, 'DELIVER', { failedCheck: null, appliedAction: 'DELIVER', enforced: true }));
    const message = await deliveries.storeProcessed(incoming(account.id, { source: 'GATEWAY', envelopeTo: recipients }), verdicts, 'SCANNED', copies);

    expect(await deliveries.updateDeliveries(message.id, ['A@customer.example'], { state: 'DEFERRED', lastError: '451 busy', attempted: true })).toBe('DEFERRED');
    const deferred = await db.prisma.recipientDelivery.findUniqueOrThrow({ where: { messageId_recipient: { messageId: message.id, recipient: 'a@customer.example' } } });
    expect(deferred).toMatchObject({ state: 'DEFERRED', lastError: '451 busy', attempts: 1, deliveredAt: null });
    expect(deferred.lastAttemptAt).toBeInstanceOf(Date);

    // Each recipient delivered by its own concurrent call: the last to commit must see the others' copies.
    await Promise.all(recipients.map((recipient) => deliveries.updateDeliveries(message.id, [recipient], { state: 'DELIVERED', lastError: null, attempted: true })));
    expect((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).deliveryState).toBe('DELIVERED');
    const delivered = await db.prisma.recipientDelivery.findMany({ where: { messageId: message.id }, orderBy: { recipient: 'asc' } });
    expect(delivered.map((copy) => [copy.state, copy.attempts, copy.lastError, copy.deliveredAt instanceof Date])).toEqual([
      ['DELIVERED', 2, null, true],
      ['DELIVERED', 1, null, true],
      ['DELIVERED', 1, null, true],
    ]);

    // lastError left out keeps the recorded one.
    await deliveries.updateDeliveries(message.id, ['c@customer.example'], { state: 'FAILED', lastError: '550 no such user' });
    await deliveries.updateDeliveries(message.id, ['c@customer.example'], { state: 'FAILED' });
    expect(await db.prisma.recipientDelivery.findUniqueOrThrow({ where: { messageId_recipient: { messageId: message.id, recipient: 'c@customer.example' } } })).toMatchObject({ lastError: '550 no such user', attempts: 1 });
    expect((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).deliveryState).toBe('FAILED');
  });

  it('should count each verdict once in the hourly aggregates, concurrent writers and redelivered scans included (issue 13)', async () => {
    const account = await factories.newAccount();
    const statistics = new StatisticsRepository(db.prisma as unknown as PrismaService);
    const dlp = { kind: 'data-control', source: 'cards', action: 'REJECT', detail: 'card number' };
    const stored = await Promise.all(Array.from({ length: 12 }, (_, index) => messages.storeIncoming(incoming(account.id, { envelopeFrom: `Sender${index % 3}@Partner.example` }))));
    await Promise.all(
      stored.map(({ message }, index) =>
        messages.saveVerdicts({ id: message.id, accountId: account.id }, [
          verdict('bob@customer.example', index % 2 === 0 ? 'QUARANTINE' : 'DELIVER', index % 2 === 0 ? {} : { failedCheck: null }),
          verdict('carol@customer.example', 'REJECT', { failedCheck: null, reasons: [dlp, dlp] }),
        ]),
      ),
    );
    // A redelivered scan job claims nothing and counts nothing.
    await messages.saveVerdicts({ id: stored[0]!.message.id, accountId: account.id }, [verdict('bob@customer.example', 'QUARANTINE')]);
    const hour = 3_600_000;
    const from = new Date(Math.floor(Date.now() / hour) * hour - hour);
    const figures = await statistics.forAccount(account.id, from, new Date(from.getTime() + 3 * hour), 2);
    expect(figures).toMatchObject({
      total: 24,
      byDirection: [{ key: 'INBOUND', count: 24 }],
      byDecidedAction: [
        { key: 'REJECT', count: 12 },
        { key: 'DELIVER', count: 6 },
        { key: 'QUARANTINE', count: 6 },
      ],
      byAppliedAction: [{ key: 'NONE', count: 24 }],
      byFailedCheck: [{ key: 'dmarc', count: 6 }],
      byDataControlRule: [{ key: 'cards', count: 12 }],
      topSenders: [
        { key: 'sender0@partner.example', count: 4 },
        { key: 'sender1@partner.example', count: 4 },
      ],
      topRecipients: [
        { key: 'carol@customer.example', count: 12 },
        { key: 'bob@customer.example', count: 6 },
      ],
    });
    expect(await statistics.forAccount(account.id, new Date(from.getTime() - 24 * hour), from, 10)).toMatchObject({ total: 0, byDirection: [], topSenders: [] });

    // Compaction folds the shards of closed hours into one row per key and changes no figure.
    await statistics.compact(new Date(Date.now() + 2 * hour));
    expect(await db.prisma.statsHourly.count({ where: { accountId: account.id, shard: { not: 0 } } })).toBe(0);
    expect(await db.prisma.statsTopHourly.count({ where: { accountId: account.id, shard: { not: 0 } } })).toBe(0);
    expect(await db.prisma.statsHourly.count({ where: { accountId: account.id } })).toBe(3);
    expect(await statistics.forAccount(account.id, from, new Date(from.getTime() + 3 * hour), 2)).toEqual(figures);

    // A closed day folds into its midnight row; its top lists keep their largest values only.
    const day = new Date(Math.floor(Date.now() / (24 * hour)) * 24 * hour - 3 * 24 * hour);
    const at = (hours: number) => new Date(day.getTime() + hours * hour);
    await db.prisma.statsHourly.createMany({
      data: [1, 5, 23].map((h) => ({ accountId: account.id, hour: at(h), direction: 'INBOUND' as const, decidedAction: 'DELIVER' as const, appliedAction: 'NONE', failedCheck: '', shard: h % 8, count: 10 })),
    });
    await db.prisma.statsTopHourly.createMany({
      data: [
        ...[2, 7].map((h) => ({ accountId: account.id, dimension: 'sender', hour: at(h), value: 'big@spam.example', shard: 3, count: 5 })),
        { accountId: account.id, dimension: 'sender', hour: at(4), value: 'mid@spam.example', shard: 0, count: 4 },
        { accountId: account.id, dimension: 'sender', hour: at(9), value: 'small@spam.example', shard: 0, count: 1 },
      ],
    });
    await statistics.compactDays(new Date(day.getTime() + 24 * hour), 2);
    expect(await db.prisma.statsHourly.findMany({ where: { accountId: account.id, hour: { lt: from } }, select: { hour: true, count: true, shard: true } })).toEqual([{ hour: day, count: BigInt(30), shard: 0 }]);
    expect(await statistics.forAccount(account.id, day, at(24), 5)).toMatchObject({
      total: 30,
      topSenders: [
        { key: 'big@spam.example', count: 10 },
        { key: 'mid@spam.example', count: 4 },
      ],
    });
    // Running it again changes nothing.
    expect(await statistics.compactDays(new Date(day.getTime() + 24 * hour), 2)).toBe(0);
  });

  it('should append the recipients\' events in the statements that record them: scan, quarantine, each delivery attempt (issue 13)', async () => {
    const account = await factories.newAccount({ monitorOnly: false });
    const events = async (messageId: string) =>
      (await db.prisma.recipientEvent.findMany({ where: { messageId }, orderBy: { id: 'asc' } })).map((event) => [event.recipient, event.type, event.action, event.reply, event.detail]);

    // Journal scan: once per recipient, also "would have been quarantined"; a redelivered scan job writes nothing more.
    const { message: journal } = await messages.storeIncoming(incoming(account.id));
    const decisions = [verdict('bob@customer.example', 'QUARANTINE'), verdict('carol@customer.example', 'DELIVER', { failedCheck: null })];
    await messages.saveVerdicts({ id: journal.id, accountId: account.id }, decisions);
    await messages.saveVerdicts({ id: journal.id, accountId: account.id }, decisions);
    expect(await events(journal.id)).toEqual([
      ['bob@customer.example', 'SCANNED', 'QUARANTINE', null, { enforced: false, failedCheck: 'dmarc' }],
      ['bob@customer.example', 'QUARANTINED', 'QUARANTINE', null, { enforced: false, failedCheck: 'dmarc' }],
      ['carol@customer.example', 'SCANNED', 'DELIVER', null, { enforced: false }],
    ]);

    // Gateway: scanned with the message, then attempts; QUEUED is not an event.
    const copies = [{ recipient: 'dave@customer.example', action: 'DELIVER' as const, state: 'QUEUED' as const }];
    const gateway = await deliveries.storeProcessed(incoming(account.id, { source: 'GATEWAY', envelopeTo: ['dave@customer.example'] }), [verdict('dave@customer.example', 'DELIVER', { failedCheck: null, appliedAction: 'DELIVER', enforced: true })], 'SCANNED', copies);
    await deliveries.updateDeliveries(gateway.id, ['dave@customer.example'], { state: 'DEFERRED', lastError: '451 4.3.0 busy', attempted: true, downstream: 'mx.customer.example:25' });
    await deliveries.updateDeliveries(gateway.id, ['dave@customer.example'], { state: 'QUEUED' });
    await deliveries.updateDeliveries(gateway.id, ['dave@customer.example'], { state: 'DELIVERED', lastError: null, attempted: true, reply: '250 2.0.0 queued as 42', downstream: 'mx.customer.example:25' });
    expect(await events(gateway.id)).toEqual([
      ['dave@customer.example', 'SCANNED', 'DELIVER', null, { appliedAction: 'DELIVER', enforced: true }],
      ['dave@customer.example', 'DEFERRED', null, '451 4.3.0 busy', { attempted: true, attempt: 1, downstream: 'mx.customer.example:25' }],
      ['dave@customer.example', 'DELIVERED', null, '250 2.0.0 queued as 42', { attempted: true, attempt: 2, downstream: 'mx.customer.example:25' }],
    ]);
  });
});
