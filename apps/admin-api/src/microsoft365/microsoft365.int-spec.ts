import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { ExportRepository, Microsoft365Repository, PostgresRawMessageStore, REMEDIATION_FINISHED_TOPIC, type Account, type PrismaService } from '@mailwarden/db';
import { EventRenderer, ExportRunner, ExportSinkFactory, OcsfSchema, type OcsfEvent } from '@mailwarden/export';
import { DirectorySyncService, Microsoft365Queues, Microsoft365Service, Microsoft365Workers, RemediationService } from '@mailwarden/microsoft365';
import { JobWorkers, m365DirectorySyncSchedulerId, QueueName, redisOptionsFromUrl } from '@mailwarden/queue';
import { FakeMicrosoft365, TestFactories, type FakeUser, type TestDatabase, type TestRedis } from '@mailwarden/testing';
import { startTestAdminApi, type Json, type JsonReply, type TestAdminApi } from '../../test/admin-api.harness';

jest.setTimeout(120_000);

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting; last value: ${JSON.stringify(value).slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Microsoft 365 connection, directory sync and clawback (admin API, fake Microsoft 365)', () => {
  const fake = new FakeMicrosoft365();
  let api: TestAdminApi;
  let db: TestDatabase;
  let redis: TestRedis;
  let factories: TestFactories;
  let workers: Microsoft365Workers;
  let account: Account;
  let otherAccount: Account;
  let tenantKey: string;
  let readOnlyKey: string;
  let otherKey: string;
  let tenantId: string;
  const replies: string[] = [];

  const call = async (method: string, path: string, key: string | null, body?: unknown): Promise<JsonReply> => {
    const reply = await api.call(method, path, key, body);
    replies.push(reply.text);
    return reply;
  };
  const A = () => `/v1/accounts/${account.id}`;
  const startWorkers = async () => {
    const next = new Microsoft365Workers(
      api.app.get(DirectorySyncService),
      api.app.get(RemediationService),
      api.app.get(Microsoft365Repository),
      api.app.get(Microsoft365Queues),
      api.app.get(Microsoft365Service),
      // The scanner's worker role, as a process of its own (the admin API runs no Microsoft 365 worker).
      new JobWorkers({ connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix }),
      { lockDurationMs: 2000, stalledIntervalMs: 500 },
    );
    await next.start();
    return next;
  };
  const remediationDone = (id: string) =>
    waitFor(
      () => call('GET', `${A()}/remediations/${id}`, tenantKey),
      (reply) => !['QUEUED', 'IN_PROGRESS'].includes(String(reply.body.status)),
    );
  const syncDone = (runId: string) =>
    waitFor(
      () => call('GET', `${A()}/integrations/microsoft365/directory-syncs`, tenantKey),
      (reply) => (reply.body.items as Json[]).some((run) => run.id === runId && ['SUCCEEDED', 'FAILED'].includes(String(run.status))),
    ).then((reply) => (reply.body.items as Json[]).find((run) => run.id === runId)!);
  const effectiveTag = async (recipient: string) =>
    ((await call('GET', `${A()}/policies/effective?recipient=${encodeURIComponent(recipient)}`, tenantKey)).body.emailSecurity as { settings: Json }).settings.subjectTag;

  beforeAll(async () => {
    await fake.start();
    api = await startTestAdminApi({
      env: { ...fake.appEnv(), PUBLIC_BASE_URL: 'https://mailwarden.example' },
      overrides: { microsoft365: { graph: { maxRetries: 2, backoffBaseMs: 10 }, consentTokenRetries: 0, remediationLeaseMs: 1500 } },
    });
    ({ db, redis } = api);
    factories = new TestFactories(db.prisma);
    workers = await startWorkers();

    const partner = await db.prisma.partner.create({ data: { name: 'Partner' } });
    account = await factories.newAccount({ partnerId: partner.id, name: 'Contoso' });
    await factories.newDomain(account, { name: 'contoso.example' });
    otherAccount = await factories.newAccount({ name: 'Northwind' });
    const apiKeys = new TestFactories(db.prisma);
    tenantKey = (await apiKeys.newApiKey({ name: 'Contoso admin', role: 'TENANT_ADMIN', accountId: account.id })).plaintext;
    readOnlyKey = (await apiKeys.newApiKey({ name: 'SIEM', role: 'READ_ONLY', accountId: account.id })).plaintext;
    otherKey = (await apiKeys.newApiKey({ name: 'Northwind admin', role: 'TENANT_ADMIN', accountId: otherAccount.id })).plaintext;
    tenantId = fake.addTenant();
  });

  afterAll(async () => {
    await workers?.stop();
    await api?.close();
    await fake.stop();
  });

  /** Follows the consent link as the admin's browser would: Microsoft's page redirects back to our callback. */
  const consentRoundTrip = async (url: string, tamper?: (state: string) => string): Promise<JsonReply> => {
    const atMicrosoft = await fetch(url, { redirect: 'manual' });
    expect(atMicrosoft.status).toBe(302);
    const back = new URL(atMicrosoft.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('https://mailwarden.example/v1/integrations/microsoft365/consent-callback');
    if (tamper) {
      back.searchParams.set('state', tamper(back.searchParams.get('state')!));
    }
    return call('GET', `${back.pathname}${back.search}`, null);
  };

  it('should refuse a refused consent as Microsoft said it, and a tampered state, recording nothing', async () => {
    const link = await call('POST', `${A()}/integrations/microsoft365/consent-url`, tenantKey);
    expect(link.status).toBe(200);
    const url = new URL(link.body.url as string);
    expect(url.pathname).toBe('/organizations/adminconsent');
    expect(url.searchParams.get('client_id')).toBe(fake.clientId);

    fake.consentAnswer = { error: 'access_denied', description: 'AADSTS65004: User declined to consent to access the app.' };
    const refused = await consentRoundTrip(link.body.url as string);
    expect(refused.body).toMatchObject({ status: 400, code: 'CONSENT_REFUSED', detail: 'AADSTS65004: User declined to consent to access the app.', errors: [{ code: 'access_denied' }] });

    fake.consentAnswer = 'accept';
    const flipped = await consentRoundTrip(link.body.url as string, (state) => {
      const [payload, mac] = state.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Json;
      return `${Buffer.from(JSON.stringify({ ...claims, a: otherAccount.id })).toString('base64url')}.${mac}`;
    });
    expect(flipped.body).toMatchObject({ status: 400, code: 'INVALID_CONSENT_STATE' });
    expect((await call('GET', '/v1/integrations/microsoft365/consent-callback?tenant=x&admin_consent=True', null)).body).toMatchObject({ code: 'INVALID_CONSENT_STATE' });
    expect(await db.prisma.m365Connection.count()).toBe(0);
    expect((await call('GET', `${A()}/integrations/microsoft365`, tenantKey)).body).toMatchObject({ appConfigured: true, connected: false });
    expect((await call('POST', `${A()}/integrations/microsoft365/check`, tenantKey)).body).toMatchObject({ status: 409, code: 'MICROSOFT365_NOT_CONNECTED' });
  });

  let alice: FakeUser;
  let bob: FakeUser;
  let carol: FakeUser;
  let financeGraphId: string;

  it('should record the tenant on consent, audited, sync the directory in full at once and on a schedule, and check the connection naming a missing permission', async () => {
    alice = fake.addUser(tenantId, { userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
    bob = fake.addUser(tenantId, { userPrincipalName: 'bob@contoso.example', displayName: 'Bob', proxyAddresses: ['SMTP:bob@contoso.example', 'smtp:b@contoso.example'] });
    carol = fake.addUser(tenantId, { userPrincipalName: 'carol@contoso.example', displayName: 'Carol' });
    financeGraphId = fake.addGroup(tenantId, 'Finance', [alice.id, bob.id]).id;
    fake.addGroup(tenantId, 'Sales', [carol.id]);
    fake.pageSize = 2; // make every delta round span pages
    const link = await call('POST', `${A()}/integrations/microsoft365/consent-url`, tenantKey);
    fake.consentAnswer = 'accept';
    const done = await consentRoundTrip(link.body.url as string);
    expect(done.body).toEqual({ status: 'connected', accountId: account.id, tenantId });
    const connection = await call('GET', `${A()}/integrations/microsoft365`, readOnlyKey);
    expect(connection.body).toMatchObject({ connected: true, tenantId, consentedBy: expect.stringMatching(/Contoso admin/) });
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: account.id, action: 'microsoft365.consented' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ objectType: 'm365_connection', after: { tenantId } });
    expect(audit[0]!.actorKeyId).not.toBeNull();
    const queue = new Queue(QueueName.M365DirectorySync, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toEqual([m365DirectorySyncSchedulerId(account.id)]);
    await queue.close();
    // The schedule's first run starts at once: a full sync.
    const firstRun = await waitFor(
      () => call('GET', `${A()}/integrations/microsoft365/directory-syncs`, tenantKey),
      (reply) => (reply.body.items as Json[]).some((run) => run.status === 'SUCCEEDED'),
    );
    expect((firstRun.body.items as Json[])[0]).toMatchObject({ status: 'SUCCEEDED', trigger: 'SCHEDULED', fullSync: true, mailboxesAdded: 3, groupsAdded: 2, membershipsSet: 2 });
    expect((await call('GET', `${A()}/integrations/microsoft365`, readOnlyKey)).body).toMatchObject({ nextSyncIsFull: false });

    // The same tenant cannot be claimed by another account.
    const otherLink = await call('POST', `/v1/accounts/${otherAccount.id}/integrations/microsoft365/consent-url`, otherKey);
    const stolen = await consentRoundTrip(otherLink.body.url as string);
    expect(stolen.body).toMatchObject({ status: 409, code: 'MICROSOFT365_TENANT_CONNECTED_ELSEWHERE' });

    expect((await call('POST', `${A()}/integrations/microsoft365/check`, tenantKey)).body).toEqual({ ok: true, failedStep: null, missingPermission: null, code: null, message: null });
    fake.setPermissions(tenantId, ['User.Read.All', 'Mail.ReadWrite']);
    const missing = await call('POST', `${A()}/integrations/microsoft365/check`, tenantKey);
    expect(missing.body).toEqual({ ok: false, failedStep: 'Group.Read.All', missingPermission: 'Group.Read.All', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    fake.setPermissions(tenantId, ['User.Read.All', 'Group.Read.All']);
    expect((await call('POST', `${A()}/integrations/microsoft365/check`, tenantKey)).body).toMatchObject({ ok: false, missingPermission: 'Mail.ReadWrite', code: 'ErrorAccessDenied' });
    fake.setPermissions(tenantId, ['User.Read.All', 'Group.Read.All', 'Mail.ReadWrite']);
  });

  it('should refuse a replayed consent answer, and a forged one naming a tenant that never consented', async () => {
    const link = await call('POST', `${A()}/integrations/microsoft365/consent-url`, tenantKey);
    const atMicrosoft = await fetch(link.body.url as string, { redirect: 'manual' });
    const back = new URL(atMicrosoft.headers.get('location')!);
    expect((await call('GET', `${back.pathname}${back.search}`, null)).body).toMatchObject({ status: 'connected', tenantId });
    // The same answer again (a leaked or bookmarked URL) is refused: a state is good for one consent.
    expect((await call('GET', `${back.pathname}${back.search}`, null)).body).toMatchObject({ status: 400, code: 'INVALID_CONSENT_STATE' });

    // Someone holding a fresh link who edits `tenant` to a tenant that never granted consent gets nothing.
    const fresh = new URL((await call('POST', `${A()}/integrations/microsoft365/consent-url`, tenantKey)).body.url as string);
    const stranger = fake.addTenant();
    const forged = `/v1/integrations/microsoft365/consent-callback?tenant=${stranger}&admin_consent=True&state=${encodeURIComponent(fresh.searchParams.get('state')!)}`;
    expect((await call('GET', forged, null)).body).toMatchObject({ status: 400, code: 'CONSENT_REFUSED', errors: [{ code: 'unauthorized_client' }] });
    expect((await db.prisma.m365Connection.findUniqueOrThrow({ where: { accountId: account.id } })).tenantId).toBe(tenantId);
  });

  it('should sync the directory fully, then by delta: a rename, a removal and a membership change reach the effective policy', async () => {
    // The full sync ran right after consent (previous test).
    const mailboxes = await db.prisma.user.findMany({ where: { accountId: account.id }, orderBy: { email: 'asc' } });
    expect(mailboxes.map((user) => [user.email, user.displayName])).toEqual([
      ['alice@contoso.example', 'Alice'],
      ['bob@contoso.example', 'Bob'],
      ['carol@contoso.example', 'Carol'],
    ]);
    const financeGroup = await db.prisma.group.findFirstOrThrow({ where: { accountId: account.id, name: 'Finance' }, include: { members: { include: { user: true } } } });
    expect(financeGroup.members.map((member) => member.user.email).sort()).toEqual(['alice@contoso.example', 'bob@contoso.example']);
    const bobId = mailboxes[1]!.id;
    const put = await call('PUT', `${A()}/policies/email-security/group/${financeGroup.id}`, tenantKey, { settings: { subjectTag: '[FINANCE]' }, locks: [] });
    expect(put.status).toBe(200);
    expect(await effectiveTag('alice@contoso.example')).toBe('[FINANCE]');
    expect(await effectiveTag('carol@contoso.example')).not.toBe('[FINANCE]');

    // Changes in Microsoft 365: Bob renamed, Carol removed, Alice leaves Finance.
    fake.updateUser(tenantId, bob.id, { mail: 'robert@contoso.example', userPrincipalName: 'robert@contoso.example', proxyAddresses: ['SMTP:robert@contoso.example'], displayName: 'Robert' });
    fake.removeUser(tenantId, carol.id);
    fake.setGroupMembers(tenantId, financeGraphId, [bob.id]);
    const before = fake.requests.length;
    const second = await call('POST', `${A()}/integrations/microsoft365/directory-syncs`, tenantKey);
    expect(second.status).toBe(202);
    const secondRun = await syncDone(second.body.id as string);
    expect(secondRun).toMatchObject({ status: 'SUCCEEDED', trigger: 'ON_DEMAND', fullSync: false, mailboxesAdded: 0, mailboxesUpdated: 1, mailboxesRemoved: 1 });
    const deltaCalls = fake.requests.slice(before).filter((request) => /\/delta$/.test(request.path));
    expect(deltaCalls.length).toBeGreaterThanOrEqual(2);
    expect(deltaCalls.every((request) => request.query.has('$deltatoken'))).toBe(true);

    const after = await db.prisma.user.findMany({ where: { accountId: account.id }, orderBy: { email: 'asc' } });
    expect(after.map((user) => [user.id, user.email])).toEqual([
      [mailboxes[0]!.id, 'alice@contoso.example'],
      [bobId, 'robert@contoso.example'], // the same mailbox: its policies and memberships follow the rename
    ]);
    expect(await effectiveTag('robert@contoso.example')).toBe('[FINANCE]');
    expect(await effectiveTag('alice@contoso.example')).not.toBe('[FINANCE]');
    expect(await db.prisma.group.findFirstOrThrow({ where: { accountId: account.id, name: 'Sales' }, include: { members: true } })).toMatchObject({ members: [] });
    expect((await call('GET', `${A()}/integrations/microsoft365`, tenantKey)).body).toMatchObject({ nextSyncIsFull: false, lastSyncAt: expect.any(String) });
  });

  it('should change nothing when a sync fails half-way, and apply the change on the next run', async () => {
    const finance = await db.prisma.group.findFirstOrThrow({ where: { accountId: account.id, name: 'Finance' } });
    const connectionBefore = await db.prisma.m365Connection.findUniqueOrThrow({ where: { accountId: account.id } });
    const financeId = (await db.prisma.m365DirectoryObject.findFirstOrThrow({ where: { accountId: account.id, kind: 'GROUP', localId: finance.id } })).graphId;
    fake.updateUser(tenantId, alice.id, { displayName: 'Alice Liddell' });
    fake.setGroupMembers(tenantId, financeId, [bob.id, alice.id]);
    fake.inject({ path: /\/groups\/[^/]+\/members$/, status: 503, times: 3 }); // the first try and both retries
    const failing = await call('POST', `${A()}/integrations/microsoft365/directory-syncs`, tenantKey);
    const failed = await syncDone(failing.body.id as string);
    expect(failed).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/serviceNotAvailable/), mailboxesUpdated: 0 });
    expect((await db.prisma.user.findFirstOrThrow({ where: { accountId: account.id, email: 'alice@contoso.example' } })).displayName).toBe('Alice');
    expect(await db.prisma.groupMembership.count({ where: { groupId: finance.id } })).toBe(1);
    expect(await db.prisma.m365Connection.findUniqueOrThrow({ where: { accountId: account.id } })).toMatchObject({ usersDeltaLink: connectionBefore.usersDeltaLink, groupsDeltaLink: connectionBefore.groupsDeltaLink });

    const again = await call('POST', `${A()}/integrations/microsoft365/directory-syncs`, tenantKey);
    expect(await syncDone(again.body.id as string)).toMatchObject({ status: 'SUCCEEDED', mailboxesUpdated: 1 });
    expect(await effectiveTag('alice@contoso.example')).toBe('[FINANCE]');
    const audit = await db.prisma.auditEvent.count({ where: { accountId: account.id, action: 'directory.synced' } });
    expect(audit).toBe(3); // the failed run wrote no audit entry
  });

  it('should import mailboxes from CSV through the same path, all or nothing', async () => {
    const bad = await call('POST', `${A()}/mailboxes/import`, tenantKey, { csv: 'email,displayName\nnew1@contoso.example,New One\nnot-an-address,X\n' });
    expect(bad.body).toMatchObject({ status: 400, code: 'CSV_INVALID', errors: [{ field: 'row 3' }] });
    expect(await db.prisma.user.count({ where: { accountId: account.id, email: 'new1@contoso.example' } })).toBe(0);
    const good = await call('POST', `${A()}/mailboxes/import`, tenantKey, { csv: 'Email,DisplayName\nNew1@contoso.example,New One\nalice@contoso.example,Alice L.\n' });
    expect(good.body).toMatchObject({ trigger: 'CSV_IMPORT', status: 'SUCCEEDED', mailboxesAdded: 1, mailboxesUpdated: 1 });
    expect((await call('POST', `${A()}/mailboxes/import`, readOnlyKey, { csv: 'email\nx@contoso.example' })).body).toMatchObject({ status: 403, code: 'READ_ONLY_KEY' });
  });

  const mailboxes = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => fake.addUser(tenantId, { userPrincipalName: `${prefix}${index + 1}@contoso.example` }));

  let clawbackId: string;
  let clawbackUsers: FakeUser[];
  const CLAWBACK_MID = '<phish-1@evil.example>';

  it('should claw back a message delivered to five mailboxes: one not found, one throttled twice', async () => {
    clawbackUsers = mailboxes('m', 4);
    for (const user of clawbackUsers) {
      fake.deliver(tenantId, user.id, CLAWBACK_MID, 'Urgent invoice');
    }
    const message = await factories.newMessage(account, {
      envelopeFrom: 'attacker@evil.example',
      envelopeTo: [...clawbackUsers.map((user) => user.userPrincipalName), 'nomailbox@contoso.example', 'partner@elsewhere.example'],
      messageIdHeader: CLAWBACK_MID,
      subject: 'Urgent invoice',
    });
    fake.inject({ path: /\/users\/m2(%40|@)contoso\.example\/messages$/, method: 'GET', status: 429, retryAfterSeconds: 1, times: 2 });
    const before = fake.requests.length;
    const created = await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'MOVE_TO_DELETED_ITEMS' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ action: 'MOVE_TO_DELETED_ITEMS', status: 'QUEUED', counts: { QUEUED: 5 } });
    clawbackId = created.body.id as string;
    const done = await remediationDone(clawbackId);
    expect(done.body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 4, NOT_FOUND: 1 } });
    const items = done.body.items as Json[];
    expect(items.find((item) => item.recipient === 'nomailbox@contoso.example')).toMatchObject({ status: 'NOT_FOUND', errorMessage: expect.stringMatching(/ErrorInvalidUser/) });
    expect(items.some((item) => item.recipient === 'partner@elsewhere.example')).toBe(false); // not the account's mailbox
    for (const user of clawbackUsers) {
      expect(fake.locate(tenantId, user.id, CLAWBACK_MID)).toEqual([{ folder: 'deleteditems', id: expect.any(String) }]);
    }
    const mine = fake.requests.slice(before);
    expect(mine.filter((request) => request.mailbox === 'm2@contoso.example' && request.method === 'GET' && request.path.endsWith('/messages')).map((request) => request.status)).toEqual([429, 429, 200]);
    const moves = mine.filter((request) => request.path.endsWith('/move'));
    expect(moves.map((request) => request.mailbox).sort()).toEqual(['m1@contoso.example', 'm2@contoso.example', 'm3@contoso.example', 'm4@contoso.example']);
    expect(moves.every((request) => (request.body as Json).destinationId === 'deleteditems')).toBe(true);
    expect(mine.find((request) => request.path.endsWith('/messages'))!.query.get('$filter')).toBe(`internetMessageId eq '${CLAWBACK_MID}'`);

    const ofMessage = await call('GET', `${A()}/messages/${message.id}/remediations`, readOnlyKey);
    expect(ofMessage.body).toEqual([expect.objectContaining({ id: clawbackId, status: 'COMPLETED' })]);
    const detail = await call('GET', `${A()}/messages/${message.id}`, readOnlyKey);
    expect(detail.body.remediations).toEqual([expect.objectContaining({ id: clawbackId, action: 'MOVE_TO_DELETED_ITEMS', counts: { COMPLETED: 4, NOT_FOUND: 1 } })]);
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: account.id, objectId: clawbackId }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['remediation.requested', 'remediation.finished']);
    expect((await call('GET', `/v1/accounts/${account.id}/remediations/${clawbackId}`, otherKey)).status).toBe(404);
    expect((await call('POST', `${A()}/messages/${message.id}/remediations`, readOnlyKey, { action: 'HARD_DELETE' })).body).toMatchObject({ code: 'READ_ONLY_KEY' });
    expect((await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'MOVE_TO_JUNK', recipients: ['stranger@contoso.example'] })).body).toMatchObject({
      status: 400,
      code: 'REMEDIATION_RECIPIENT_NOT_IN_MESSAGE',
    });
  });

  it('should restore what a clawback moved back to the inbox', async () => {
    const before = fake.requests.length;
    const restore = await call('POST', `${A()}/remediations/${clawbackId}/restore`, tenantKey);
    expect(restore.status).toBe(202);
    expect(restore.body).toMatchObject({ action: 'RESTORE_TO_INBOX', restoreOf: clawbackId, counts: { QUEUED: 4 } });
    const done = await remediationDone(restore.body.id as string);
    expect(done.body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 4 } });
    for (const user of clawbackUsers) {
      expect(fake.locate(tenantId, user.id, CLAWBACK_MID)).toEqual([{ folder: 'inbox', id: expect.any(String) }]);
    }
    const moves = fake.requests.slice(before).filter((request) => request.path.endsWith('/move'));
    expect(moves.map((request) => (request.body as Json).destinationId)).toEqual(['inbox', 'inbox', 'inbox', 'inbox']);

    const hard = await factories.newMessage(account, { envelopeTo: [clawbackUsers[0]!.userPrincipalName], messageIdHeader: '<hard@evil.example>' });
    fake.deliver(tenantId, clawbackUsers[0]!.id, '<hard@evil.example>');
    const deleted = await call('POST', `${A()}/remediations`, tenantKey, { action: 'HARD_DELETE', messageIds: [hard.id] });
    expect((await remediationDone(deleted.body.id as string)).body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 1 } });
    expect(fake.locate(tenantId, clawbackUsers[0]!.id, '<hard@evil.example>')).toEqual([]);
    expect((await call('POST', `${A()}/remediations/${deleted.body.id as string}/restore`, tenantKey)).body).toMatchObject({ status: 409, code: 'REMEDIATION_NOT_RESTORABLE' });
  });

  it('should record the Graph error per mailbox when Microsoft refuses, and fail the remediation', async () => {
    const [victim] = mailboxes('f', 1);
    fake.deliver(tenantId, victim!.id, '<denied@evil.example>');
    const message = await factories.newMessage(account, { envelopeTo: [victim!.userPrincipalName], messageIdHeader: '<denied@evil.example>' });
    fake.setPermissions(tenantId, ['User.Read.All', 'Group.Read.All']); // Mail.ReadWrite withdrawn by the tenant
    try {
      const created = await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'MOVE_TO_JUNK' });
      const done = await remediationDone(created.body.id as string);
      expect(done.body).toMatchObject({
        status: 'FAILED',
        counts: { FAILED: 1 },
        items: [{ recipient: victim!.userPrincipalName, status: 'FAILED', errorCode: 'ErrorAccessDenied', errorMessage: 'Access is denied. Check credentials and try again.' }],
      });
    } finally {
      fake.setPermissions(tenantId, ['User.Read.All', 'Group.Read.All', 'Mail.ReadWrite']);
    }
    expect(fake.locate(tenantId, victim!.id, '<denied@evil.example>')).toEqual([{ folder: 'inbox', id: expect.any(String) }]);
  });

  it('should claw back by search over 500 messages after a count preview, never above 4 concurrent requests per mailbox', async () => {
    const [s1, s2] = mailboxes('s', 2);
    const start = new Date(Date.now() - 3600_000);
    for (let index = 0; index < 500; index++) {
      const mid = `<campaign-${index}@evil.example>`;
      await factories.newMessage(account, { envelopeFrom: 'campaign@evil.example', envelopeTo: [s1!.userPrincipalName, s2!.userPrincipalName], messageIdHeader: mid, subject: `Payroll update ${index}` });
      fake.deliver(tenantId, s1!.id, mid);
      fake.deliver(tenantId, s2!.id, mid);
    }
    const search = { sender: 'campaign@evil.example', subject: 'Payroll', from: start.toISOString() };
    const preview = await call('POST', `${A()}/remediations/preview`, tenantKey, { search });
    expect(preview.body).toEqual({ messages: 500, mailboxes: 1000, skippedMessages: 0, tooMany: false });
    expect((await call('POST', `${A()}/remediations`, tenantKey, { action: 'MOVE_TO_JUNK', search, expectedMessages: 499 })).body).toMatchObject({ status: 409, code: 'REMEDIATION_PREVIEW_CHANGED' });
    fake.latencyMs = 3;
    fake.maxConcurrentPerMailbox.clear();
    const created = await call('POST', `${A()}/remediations`, tenantKey, { action: 'MOVE_TO_JUNK', search, expectedMessages: 500 });
    expect(created.status).toBe(202);
    const done = await remediationDone(created.body.id as string);
    fake.latencyMs = 0;
    expect(done.body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 1000 } });
    expect(fake.maxConcurrentPerMailbox.get('s1@contoso.example')).toBe(4);
    expect(fake.maxConcurrentPerMailbox.get('s2@contoso.example')).toBe(4);
    expect(fake.locate(tenantId, s1!.id, '<campaign-123@evil.example>')).toEqual([{ folder: 'junkemail', id: expect.any(String) }]);
  });

  it('should work a remediation handed out twice at once (a stalled job re-run while alive) only once per mailbox', async () => {
    const users = mailboxes('d', 8);
    const mid = '<twice@evil.example>';
    users.forEach((user) => fake.deliver(tenantId, user.id, mid));
    const message = await factories.newMessage(account, { envelopeTo: users.map((user) => user.userPrincipalName), messageIdHeader: mid });
    await workers.stop();
    fake.latencyMs = 20;
    const before = fake.requests.length;
    try {
      const created = await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'MOVE_TO_JUNK' });
      const service = api.app.get(RemediationService);
      const runs = await Promise.all([service.process(created.body.id as string), service.process(created.body.id as string)]);
      expect(runs.sort()).toEqual(['already-finished', 'finished']);
      const done = await call('GET', `${A()}/remediations/${created.body.id as string}`, tenantKey);
      expect(done.body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 8 } });
      const searches = fake.requests.slice(before).filter((request) => request.method === 'GET' && request.path.endsWith('/messages'));
      expect(searches.map((request) => request.mailbox).sort()).toEqual(users.map((user) => user.userPrincipalName).sort());
    } finally {
      fake.latencyMs = 0;
      workers = await startWorkers();
    }
  });

  it('should resume a remediation killed mid-way without acting twice on any mailbox', async () => {
    const users = mailboxes('k', 6);
    const mid = '<resume@evil.example>';
    users.forEach((user) => fake.deliver(tenantId, user.id, mid));
    const message = await factories.newMessage(account, { envelopeTo: users.map((user) => user.userPrincipalName), messageIdHeader: mid });
    fake.holdMutations(2); // two moves answered; the rest done by "Microsoft" but their answers never arrive
    const before = fake.requests.length;
    const created = await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'SOFT_DELETE' });
    await waitFor(
      async () => fake.requests.slice(before).filter((request) => request.path.endsWith('/move')).length,
      (moves) => moves === 6,
    );
    await workers.stop(); // the crash: nothing more is recorded by this worker
    fake.dropHeld();
    fake.holdMutations(null);
    const halfway = await call('GET', `${A()}/remediations/${created.body.id as string}`, tenantKey);
    expect(halfway.body).toMatchObject({ status: 'IN_PROGRESS', counts: { COMPLETED: 2, IN_PROGRESS: 4 } });

    workers = await startWorkers();
    const done = await remediationDone(created.body.id as string);
    expect(done.body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 2, ALREADY_IN_DESTINATION: 4 } });
    const moves = fake.requests.slice(before).filter((request) => request.path.endsWith('/move'));
    expect(moves.map((request) => request.mailbox).sort()).toEqual(users.map((user) => user.userPrincipalName).sort()); // one move per mailbox
    for (const user of users) {
      expect(fake.locate(tenantId, user.id, mid)).toEqual([{ folder: 'recoverableitemsdeletions', id: expect.any(String) }]);
    }
  });

  it('should write one outbox event with the final status of each remediation, exported as an OCSF Remediation Activity to NDJSON', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'mw-m365-export-'));
    try {
      const exports = new ExportRepository(db.prisma as unknown as PrismaService, new PostgresRawMessageStore());
      const lake = await exports.createDestination({ accountId: account.id, name: 'lake', kind: 'NDJSON', settings: { folder: 'lake' } });
      const [victim, gone] = mailboxes('x', 2);
      fake.deliver(tenantId, victim!.id, '<export@evil.example>', 'Wire transfer');
      const message = await factories.newMessage(account, { envelopeTo: [victim!.userPrincipalName, gone!.userPrincipalName], messageIdHeader: '<export@evil.example>', subject: 'Wire transfer' });
      const created = await call('POST', `${A()}/messages/${message.id}/remediations`, tenantKey, { action: 'SOFT_DELETE' });
      const remediationId = created.body.id as string;
      expect((await remediationDone(remediationId)).body).toMatchObject({ status: 'COMPLETED', counts: { COMPLETED: 1, NOT_FOUND: 1 } });

      const rows = await db.prisma.outboxEvent.findMany({ where: { topic: REMEDIATION_FINISHED_TOPIC, aggregateId: remediationId } });
      expect(rows).toEqual([expect.objectContaining({ accountId: account.id, payload: { remediationId, accountId: account.id } })]);
      // Written by the transaction that set the final status: the row's xmin is that transaction's (32-bit) id.
      const [{ xmin }] = await db.prisma.$queryRawUnsafe<Array<{ xmin: string }>>(`SELECT xmin::text AS "xmin" FROM "m365_remediation" WHERE "id" = $1::uuid`, remediationId);
      expect((rows[0]!.txId % 2n ** 32n).toString()).toBe(xmin);
      // Every remediation of this file, also the one run twice at once and the one killed mid-way, has exactly one.
      const finished = await db.prisma.m365Remediation.findMany({ where: { status: { notIn: ['QUEUED', 'IN_PROGRESS'] } }, select: { id: true } });
      const perRemediation = await db.prisma.outboxEvent.groupBy({ by: ['aggregateId'], where: { topic: REMEDIATION_FINISHED_TOPIC }, _count: { _all: true } });
      expect(perRemediation.map((row) => [row.aggregateId, row._count._all]).sort()).toEqual(finished.map((row) => [row.id, 1]).sort());

      const runner = new ExportRunner(exports, new EventRenderer(exports, '0.1.0'), new ExportSinkFactory(Buffer.alloc(32, 9).toString('base64'), root).sinkFor, {
        batchSize: 100,
        runBudgetMs: 10_000,
        leaseMs: 10_000,
        backoffBaseMs: 100,
        backoffMaxMs: 100,
      });
      const delivered = async () => {
        const dir = path.join(root, account.id, 'lake');
        const files = (await readdir(dir).catch(() => [])).sort();
        const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
        return texts.flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as OcsfEvent));
      };
      const events = await waitFor(
        async () => {
          await runner.run(lake.id);
          return delivered();
        },
        (lines) => lines.some((event) => event.command_uid === remediationId),
        30_000,
      );
      const remediationEvents = events.filter((event) => event.class_uid === 7001);
      expect(remediationEvents).toHaveLength(1);
      const [event] = remediationEvents;
      expect(OcsfSchema.load(OcsfSchema.defaultDir(path.resolve(__dirname, '../../../..'))).validate(event!)).toEqual([]);
      expect(event).toMatchObject({
        class_name: 'Remediation Activity',
        activity_id: 2,
        activity_name: 'Evict',
        status_id: 1,
        status: 'Success',
        command_uid: remediationId,
        metadata: { tenant_uid: account.id, version: '1.8.0' },
        unmapped: { action: 'SOFT_DELETE', mailbox_counts: { total: 2, COMPLETED: 1, NOT_FOUND: 1 } },
      });
      expect((event!.unmapped as { mailboxes: unknown[] }).mailboxes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ recipient: victim!.userPrincipalName, status: 'COMPLETED', message_uid: '<export@evil.example>' }),
          expect.objectContaining({ recipient: gone!.userPrincipalName, status: 'NOT_FOUND' }),
        ]),
      );
      expect(await exports.findDestination(lake.id)).toMatchObject({ consecutiveFailures: 0 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('should remove the connection and its schedule, audited, and never return the client secret', async () => {
    const removed = await call('DELETE', `${A()}/integrations/microsoft365`, tenantKey);
    expect(removed.body).toMatchObject({ connected: true, tenantId });
    expect((await call('GET', `${A()}/integrations/microsoft365`, tenantKey)).body).toMatchObject({ connected: false });
    expect((await call('DELETE', `${A()}/integrations/microsoft365`, tenantKey)).status).toBe(404);
    const queue = new Queue(QueueName.M365DirectorySync, { connection: redisOptionsFromUrl(redis.url) as never, prefix: redis.prefix });
    expect(await queue.getJobSchedulers()).toEqual([]);
    await queue.close();
    expect(await db.prisma.auditEvent.count({ where: { accountId: account.id, action: 'microsoft365.disconnected' } })).toBe(1);
    expect(await db.prisma.user.count({ where: { accountId: account.id, email: 'alice@contoso.example' } })).toBe(1); // synced mailboxes stay
    const audit = JSON.stringify(await db.prisma.auditEvent.findMany(), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    const everything = `${replies.join('\n')}\n${audit}`;
    expect(everything).not.toContain(fake.clientSecret);
  });
});
