import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@mailwarden/testing';
import { Prisma } from './generated/prisma/client';

/**
 * Proves the Prisma schema and the hand-written SQL migrations agree: every model is written with every
 * field set and read back through the generated client against the migrated database.
 */
describe('schema and migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  it('should write and read back every model through the generated client', async () => {
    const { prisma } = db;
    const partner = await prisma.partner.create({ data: { name: 'Partner' } });
    const account = await prisma.account.create({
      data: {
        partnerId: partner.id,
        name: 'Acme',
        monitorOnly: false,
        journalToken: 'j-schema',
        journalSourceIps: ['40.92.0.0/15'],
        journalRequireTls: true,
      },
    });
    const domain = await prisma.domain.create({
      data: {
        accountId: account.id,
        name: 'acme.example',
        mode: 'GATEWAY',
        verificationStatus: 'VERIFIED',
        verificationToken: 'tok',
        verifiedAt: new Date(),
        downstreamHost: 'mx.acme.example',
        downstreamPort: 2525,
        downstreamRequireTls: false,
        downstreamVerifyCert: false,
      },
    });
    const user = await prisma.user.create({ data: { accountId: account.id, email: 'ann@acme.example', displayName: 'Ann' } });
    const group = await prisma.group.create({ data: { accountId: account.id, name: 'Finance' } });
    await prisma.groupMembership.create({ data: { groupId: group.id, userId: user.id } });
    const policy = await prisma.policy.create({
      data: {
        kind: 'EMAIL_SECURITY',
        scope: 'USER',
        accountId: account.id,
        partnerId: partner.id,
        scopeId: user.id,
        settings: { dmarc: { action: 'REJECT' } },
        locks: ['dmarc.action'],
      },
    });
    const raw = await prisma.rawMessage.create({ data: { content: new Uint8Array([1, 2, 0, 255]), size: 4, sha256: 'x' } });
    const message = await prisma.message.create({
      data: {
        accountId: account.id,
        source: 'MAILFLOW',
        direction: 'OUTBOUND',
        envelopeFrom: 'ann@acme.example',
        envelopeTo: ['a@b.example', 'c@d.example'],
        headerFrom: 'ann@acme.example',
        subject: 'Subject',
        messageIdHeader: '<1@acme.example>',
        size: 4,
        clientIp: '192.0.2.1',
        helo: 'mail.acme.example',
        rawMessageId: raw.id,
        dedupKey: 'k',
        scanStatus: 'SCANNED',
        scannedAt: new Date(),
        deliveryState: 'DEFERRED',
        metadata: { connector: 'm365' },
      },
    });
    const verdict = await prisma.verdict.create({
      data: {
        messageId: message.id,
        recipient: 'a@b.example',
        checks: [{ check: 'dmarc', result: 'fail' }],
        failedCheck: 'dmarc',
        decidedAction: 'QUARANTINE',
        appliedAction: 'QUARANTINE',
        enforced: true,
        reasons: ['dmarc fail'],
        skippedReason: null,
      },
    });
    const item = await prisma.quarantineItem.create({
      data: {
        accountId: account.id,
        messageId: message.id,
        verdictId: verdict.id,
        recipient: 'a@b.example',
        reason: 'dmarc',
        status: 'RELEASED',
        enforced: true,
        releasedAt: new Date(),
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    const migration = await prisma.modeMigration.create({
      data: {
        accountId: account.id,
        kind: 'GATEWAY_TO_MAILFLOW',
        status: 'WAITING',
        params: { domains: [domain.id] },
        steps: {
          create: [
            { position: 1, key: 'copy-domains', kind: 'AUTOMATED', status: 'DONE', result: { ok: true }, attempts: 1 },
            { position: 2, key: 'quick-test', kind: 'MANUAL', status: 'WAITING_FOR_ADMIN', instruction: 'Run it', lastError: 'x' },
          ],
        },
      },
    });
    const key = await prisma.apiKey.create({
      data: { prefix: 'abcdefabcdef', hash: 'scrypt$...', name: 'ci', role: 'READ_ONLY', accountId: account.id, partnerId: partner.id },
    });
    const audit = await prisma.auditEvent.create({
      data: {
        accountId: account.id,
        partnerId: partner.id,
        actorKeyId: key.id,
        actor: 'key:ci',
        action: 'domain.create',
        objectType: 'domain',
        objectId: domain.id,
        before: Prisma.DbNull,
        after: { name: domain.name },
      },
    });
    const outbox = await prisma.outboxEvent.create({ data: { topic: 'verdict', aggregateId: message.id, payload: { id: 1 } } });

    const read = await prisma.account.findUniqueOrThrow({
      where: { id: account.id },
      include: {
        partner: true,
        domains: true,
        users: { include: { groups: { include: { group: true } } } },
        policies: true,
        messages: { include: { rawMessage: true, verdicts: { include: { quarantine: true } } } },
        migrations: { include: { steps: { orderBy: { position: 'asc' } } } },
        apiKeys: true,
      },
    });
    expect(read.partner?.name).toBe('Partner');
    expect(read.journalSourceIps).toEqual(['40.92.0.0/15']);
    expect(read.domains[0]).toMatchObject({ name: 'acme.example', mode: 'GATEWAY', downstreamPort: 2525 });
    expect(read.users[0]!.groups[0]!.group.name).toBe('Finance');
    expect(read.policies[0]).toMatchObject({ id: policy.id, locks: ['dmarc.action'], settings: { dmarc: { action: 'REJECT' } } });
    const storedMessage = read.messages[0]!;
    expect(storedMessage.envelopeTo).toEqual(['a@b.example', 'c@d.example']);
    expect(Buffer.from(storedMessage.rawMessage.content)).toEqual(Buffer.from([1, 2, 0, 255]));
    expect(storedMessage.verdicts[0]).toMatchObject({ decidedAction: 'QUARANTINE', enforced: true, failedCheck: 'dmarc' });
    expect(storedMessage.verdicts[0]!.quarantine[0]!.id).toBe(item.id);
    expect(read.migrations[0]!.id).toBe(migration.id);
    expect(read.migrations[0]!.steps.map((step) => step.status)).toEqual(['DONE', 'WAITING_FOR_ADMIN']);
    expect(read.apiKeys[0]!.role).toBe('READ_ONLY');
    expect((await prisma.auditEvent.findUniqueOrThrow({ where: { id: audit.id } })).after).toEqual({ name: 'acme.example' });
    expect(typeof (await prisma.outboxEvent.findUniqueOrThrow({ where: { id: outbox.id } })).id).toBe('bigint');
  });

  it('should write and read back export destinations, and give each outbox row its transaction id', async () => {
    const { prisma } = db;
    const partner = await prisma.partner.create({ data: { name: 'Export partner' } });
    const account = await prisma.account.create({ data: { name: 'Export', journalToken: 'j-export-schema', partnerId: partner.id } });
    const destination = await prisma.exportDestination.create({
      data: { accountId: account.id, name: 'lake', kind: 'NDJSON', settings: { folder: 'lake' }, classUids: [4009], minSeverityId: 2, cursorTxId: 5n, cursorId: 9n },
    });
    expect(await prisma.exportDestination.findUniqueOrThrow({ where: { id: destination.id } })).toMatchObject({ kind: 'NDJSON', classUids: [4009], minSeverityId: 2, actionableOnly: false, cursorTxId: 5n, eventsSent: 0n });
    const byPartner = await prisma.partner.findUniqueOrThrow({ where: { id: partner.id }, include: { exportDestinations: true } });
    expect(byPartner.exportDestinations).toEqual([]);
    // Exactly one owner: both or neither is refused.
    await expect(prisma.exportDestination.create({ data: { accountId: account.id, partnerId: partner.id, name: 'x', kind: 'NDJSON', cursorTxId: 0n, cursorId: 0n } })).rejects.toThrow();
    const rows = await prisma.$transaction([
      prisma.outboxEvent.create({ data: { topic: 'verdict', aggregateId: 'a', accountId: account.id, payload: {} } }),
      prisma.outboxEvent.create({ data: { topic: 'verdict', aggregateId: 'b', accountId: account.id, payload: {} } }),
    ]);
    expect(rows[0].txId).toBe(rows[1].txId);
    expect(rows[0].txId).toBeGreaterThan(0n);
  });

  it('should write and read back the Mimecast models through the generated client', async () => {
    const { prisma } = db;
    const account = await prisma.account.create({ data: { name: 'Mimecast', journalToken: 'j-mimecast-schema' } });
    const connection = await prisma.mimecastConnection.create({
      data: {
        accountId: account.id,
        apiVersion: 'V1',
        baseUrl: 'https://eu-api.mimecast.com',
        encryptedCredentials: 'v1.iv.tag.ct',
        enabled: false,
        pollIntervalSeconds: 600,
        leaseUntil: new Date(),
        lastPolledAt: new Date(),
      },
    });
    await prisma.mimecastPollCursor.create({
      data: { connectionId: connection.id, logType: 'URL', windowStart: new Date(0), windowEnd: new Date(), pageToken: 'next' },
    });
    await prisma.mimecastPollRun.create({
      data: {
        connectionId: connection.id,
        outcome: 'FAILED',
        pages: 2,
        received: 5,
        stored: 1,
        duplicates: 1,
        malformed: 1,
        clean: 2,
        unmapped: 1,
        error: 'url: fail',
        finishedAt: new Date(),
        durationMs: 12,
      },
    });
    await prisma.thirdPartyAlert.create({
      data: {
        accountId: account.id,
        source: 'MIMECAST',
        logType: 'url',
        alertType: 'URL Protection',
        mitreId: 'T1598.003',
        mitreName: 'Spearphishing Link',
        occurredAt: new Date('2024-11-17T17:02:30Z'),
        sender: 'a@b.example',
        recipient: 'c@d.example',
        subject: 'S',
        url: 'https://x.example/',
        fileName: 'f.pdf',
        messageIdHeader: '<m@x>',
        raw: { url: 'https://x.example/' },
        dedupHash: 'h1',
      },
    });
    await prisma.malformedAlert.create({
      data: { connectionId: connection.id, source: 'MIMECAST', logType: 'url', reason: 'url must be a non-empty string', raw: { url: 1 } },
    });

    const read = await prisma.account.findUniqueOrThrow({
      where: { id: account.id },
      include: { mimecastConnection: { include: { cursors: true, runs: true, malformedAlerts: true } }, thirdPartyAlerts: true },
    });
    expect(read.mimecastConnection).toMatchObject({ apiVersion: 'V1', enabled: false, pollIntervalSeconds: 600 });
    expect(read.mimecastConnection!.cursors[0]).toMatchObject({ logType: 'URL', pageToken: 'next' });
    expect(read.mimecastConnection!.runs[0]).toMatchObject({ outcome: 'FAILED', clean: 2, durationMs: 12 });
    expect(read.mimecastConnection!.malformedAlerts[0]!.raw).toEqual({ url: 1 });
    expect(read.thirdPartyAlerts[0]).toMatchObject({ mitreId: 'T1598.003', fileName: 'f.pdf', raw: { url: 'https://x.example/' } });
    await expect(
      prisma.thirdPartyAlert.create({
        data: { ...read.thirdPartyAlerts[0]!, id: undefined, raw: {} },
      }),
    ).rejects.toThrow();
  });

  it('should list the same tables in the database as models in the schema', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename",
    );
    await client.end();
    expect(rows).toHaveLength(Object.keys(Prisma.ModelName).length);
  });

  it('should refuse to change or delete audit events', async () => {
    const event = await db.prisma.auditEvent.create({
      data: { actor: 'system', action: 'probe', objectType: 'probe', objectId: '1' },
    });
    await expect(db.prisma.auditEvent.update({ where: { id: event.id }, data: { actor: 'someone else' } })).rejects.toThrow(
      /append-only/,
    );
    await expect(db.prisma.auditEvent.delete({ where: { id: event.id } })).rejects.toThrow(/append-only/);
  });

  it('should keep domain names unique whatever their spelling', async () => {
    const account = await db.prisma.account.create({ data: { name: 'x', journalToken: 'j-unique' } });
    await db.prisma.domain.create({ data: { accountId: account.id, name: 'unique.example', verificationToken: 't' } });
    await expect(
      db.prisma.domain.create({ data: { accountId: account.id, name: 'Unique.Example', verificationToken: 't' } }),
    ).rejects.toThrow();
  });
});
