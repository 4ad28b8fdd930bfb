import { totpCode } from '@mailwarden/auth';
import { AdminUserRepository, AuditRepository, hashSecret, type PrismaService } from '@mailwarden/db';
import { TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../../test/admin-api.harness';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery staple';

interface Session {
  cookie: string;
  csrfToken: string;
}

/** People management by admins (no role escalation, tenant isolation) and TOTP, against the real app. */
describe('admin API users and TOTP', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let baseUrl: string;
  let partnerId: string;
  let accountId: string;
  let otherAccountId: string;
  let foreignAccountId: string;
  let partnerKey: string;

  beforeAll(async () => {
    api = await startTestAdminApi();
    ({ db, baseUrl } = api);
    const prisma = db.prisma as unknown as PrismaService;
    const users = new AdminUserRepository(prisma, new AuditRepository(prisma));
    const factories = new TestFactories(db.prisma);
    partnerId = (await db.prisma.partner.create({ data: { name: 'Users partner' } })).id;
    accountId = (await factories.newAccount({ partnerId })).id;
    otherAccountId = (await factories.newAccount({ partnerId })).id;
    const foreign = await db.prisma.partner.create({ data: { name: 'Foreign' } });
    foreignAccountId = (await factories.newAccount({ partnerId: foreign.id })).id;
    partnerKey = (await new TestFactories(prisma).newApiKey({ name: 'partner', role: 'PARTNER_ADMIN', partnerId })).plaintext;
    const passwordHash = await hashSecret(PASSWORD);
    const operator = { actor: 'test', actorKeyId: null };
    await users.create({ email: 'tenant@one.example', displayName: 'Tenant', passwordHash, role: 'TENANT_ADMIN', partnerId: null, accountId }, operator);
    await users.create({ email: 'other@two.example', displayName: 'Other', passwordHash, role: 'TENANT_ADMIN', partnerId: null, accountId: otherAccountId }, operator);
    await users.create({ email: 'msp@partner.example', displayName: 'MSP', passwordHash, role: 'PARTNER_ADMIN', partnerId, accountId: null }, operator);
    await users.create({ email: 'foreign@foreign.example', displayName: 'Foreign', passwordHash, role: 'TENANT_ADMIN', partnerId: null, accountId: foreignAccountId }, operator);
  });

  afterAll(async () => {
    await api?.close();
  });

  const login = async (email: string, extra: Record<string, unknown> = {}): Promise<Session> => {
    const response = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD, ...extra }) });
    expect(response.status).toBe(200);
    return { cookie: response.headers.get('set-cookie')!.split(';')[0]!, csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken };
  };

  const call = (session: Session | string, method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(typeof session === 'string' ? { authorization: `Bearer ${session}` } : { cookie: session.cookie, 'x-csrf-token': session.csrfToken }),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const emails = async (session: Session | string, query = ''): Promise<string[]> => {
    const response = await call(session, 'GET', `/v1/users${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Array<{ email: string }> }).items.map((item) => item.email);
  };

  it('should show a tenant admin its account\'s users only, and a partner admin its partner\'s, never another partner\'s', async () => {
    const tenant = await login('tenant@one.example');
    expect(await emails(tenant)).toEqual(['tenant@one.example']);
    expect((await call(tenant, 'GET', `/v1/users?accountId=${otherAccountId}`)).status).toBe(404);
    const partner = await login('msp@partner.example');
    expect(await emails(partner)).toEqual(['msp@partner.example', 'other@two.example', 'tenant@one.example']);
    expect(await emails(partner, `?accountId=${otherAccountId}`)).toEqual(['other@two.example']);
    expect((await call(partner, 'GET', `/v1/users?accountId=${foreignAccountId}`)).status).toBe(404);
    const foreignUser = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'foreign@foreign.example' } });
    expect((await call(partner, 'GET', `/v1/users/${foreignUser.id}`)).status).toBe(404);
    expect((await call(partner, 'PATCH', `/v1/users/${foreignUser.id}`, { disabled: true })).status).toBe(404);
    expect((await call(partner, 'DELETE', `/v1/users/${foreignUser.id}`)).status).toBe(404);
    expect(await emails(partnerKey)).toEqual(['msp@partner.example', 'other@two.example', 'tenant@one.example']);
  });

  it('should never let a tenant admin create a partner admin or a user of another account, and refuse a weak password', async () => {
    const tenant = await login('tenant@one.example');
    const escalate = await call(tenant, 'POST', '/v1/users', { email: 'boss@one.example', displayName: 'Boss', role: 'PARTNER_ADMIN', password: PASSWORD });
    expect(escalate.status).toBe(403);
    expect(await escalate.json()).toMatchObject({ code: 'ROLE_NOT_ALLOWED' });
    expect((await call(tenant, 'POST', '/v1/users', { email: 'x@two.example', displayName: 'X', role: 'TENANT_ADMIN', accountId: otherAccountId, password: PASSWORD })).status).toBe(404);
    const weak = await call(tenant, 'POST', '/v1/users', { email: 'weak@one.example', displayName: 'Weak', role: 'READ_ONLY', accountId, password: 'short' });
    expect(weak.status).toBe(400);
    expect(await weak.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'password', code: 'WEAK_PASSWORD' }] });
    expect(await db.prisma.adminUser.count({ where: { email: { in: ['boss@one.example', 'x@two.example', 'weak@one.example'] } } })).toBe(0);
  });

  it('should create a read-only user who signs in, is refused every change, and is audited as created by the person', async () => {
    const tenant = await login('tenant@one.example');
    const created = await call(tenant, 'POST', '/v1/users', { email: 'Reader@One.example', displayName: 'Reader', role: 'READ_ONLY', accountId, password: PASSWORD, locale: 'ja' });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { id: string; email: string };
    expect(user).toMatchObject({ email: 'reader@one.example', role: 'READ_ONLY', accountId, partnerId: null, locale: 'ja', hasPassword: true, disabled: false });
    expect(JSON.stringify(user)).not.toMatch(/scrypt|hash/i);
    const duplicate = await call(tenant, 'POST', '/v1/users', { email: 'READER@one.example', displayName: 'Again', role: 'READ_ONLY', accountId });
    expect(duplicate.status).toBe(409);
    const audit = await db.prisma.auditEvent.findFirstOrThrow({ where: { objectId: user.id, action: 'admin_user.created' } });
    expect(audit).toMatchObject({ actor: 'user:tenant@one.example', accountId, partnerId });

    const reader = await login('reader@one.example');
    const refused = await call(reader, 'POST', '/v1/users', { email: 'more@one.example', displayName: 'More', role: 'READ_ONLY', accountId });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'READ_ONLY_KEY' });
    expect((await call(reader, 'PATCH', `/v1/accounts/${accountId}/journal`, { requireTls: true })).status).toBe(403);
  });

  it('should end a user\'s sessions when it is disabled or its role changes, and refuse to disable or demote oneself', async () => {
    const tenant = await login('tenant@one.example');
    const self = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'tenant@one.example' } });
    expect((await call(tenant, 'PATCH', `/v1/users/${self.id}`, { disabled: true })).status).toBe(403);
    expect((await call(tenant, 'PATCH', `/v1/users/${self.id}`, { role: 'READ_ONLY' })).status).toBe(403);
    expect((await call(tenant, 'DELETE', `/v1/users/${self.id}`)).status).toBe(403);

    const created = (await (await call(tenant, 'POST', '/v1/users', { email: 'temp@one.example', displayName: 'Temp', role: 'TENANT_ADMIN', accountId, password: PASSWORD })).json()) as { id: string };
    const temp = await login('temp@one.example');
    const demoted = await call(tenant, 'PATCH', `/v1/users/${created.id}`, { role: 'READ_ONLY' });
    expect(demoted.status).toBe(200);
    expect((await call(temp, 'GET', '/v1/auth/me')).status).toBe(401);
    const again = await login('temp@one.example');
    expect((await (await call(again, 'GET', '/v1/auth/me')).json()) as { role: string }).toMatchObject({ role: 'READ_ONLY' });
    expect((await call(tenant, 'PATCH', `/v1/users/${created.id}`, { disabled: true })).status).toBe(200);
    expect((await call(again, 'GET', '/v1/auth/me')).status).toBe(401);
    expect((await call(tenant, 'DELETE', `/v1/users/${created.id}`)).status).toBe(204);
    expect(await db.prisma.adminUser.count({ where: { id: created.id } })).toBe(0);
  });

  it('should turn TOTP on with a current code, then ask for it at sign-in (TOTP_REQUIRED), take a right code once, and turn it off', async () => {
    const session = await login('other@two.example');
    const setup = await call(session, 'POST', '/v1/auth/totp/setup');
    expect(setup.status).toBe(200);
    const { secret, otpauthUri } = (await setup.json()) as { secret: string; otpauthUri: string };
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Mailwarden:other%40two\.example\?/);
    const row = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'other@two.example' } });
    expect(row.totpSecret).not.toContain(secret);
    expect(row.totpEnabledAt).toBeNull();

    expect((await call(session, 'POST', '/v1/auth/totp/enable', { code: '000000' === (await totpCode(secret)) ? '111111' : '000000' })).status).toBe(400);
    const enabled = await call(session, 'POST', '/v1/auth/totp/enable', { code: await totpCode(secret) });
    expect(enabled.status).toBe(200);
    expect(await enabled.json()).toMatchObject({ totpEnabled: true });

    const noCode = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'other@two.example', password: PASSWORD }) });
    expect(noCode.status).toBe(401);
    expect(await noCode.json()).toMatchObject({ code: 'TOTP_REQUIRED' });
    expect(noCode.headers.get('set-cookie')).toBeNull();
    const wrongPasswordNoCode = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'other@two.example', password: 'wrong password here' }) });
    expect(await wrongPasswordNoCode.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });

    // The code used to enable is spent; the next step's code signs in once. Wait for a fresh step if needed.
    const now = Date.now();
    const nextStep = (Math.floor(now / 30_000) + 1) * 30_000;
    const code = await totpCode(secret, nextStep);
    const withCode = await login('other@two.example', { totpCode: code });
    expect(withCode.csrfToken).toBeTruthy();
    const replay = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'other@two.example', password: PASSWORD, totpCode: code }) });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });

    const wrongOff = await call(withCode, 'POST', '/v1/auth/totp/disable', { code: code === '123456' ? '654321' : '123456' });
    expect(wrongOff.status).toBe(400);
    expect(await wrongOff.json()).toMatchObject({ code: 'TOTP_INVALID' });
    // A later period (instead of waiting 30 s): the last used step is forgotten, the current code is fresh again.
    await db.prisma.adminUser.update({ where: { id: row.id }, data: { totpLastStep: null } });
    const off = await call(withCode, 'POST', '/v1/auth/totp/disable', { code: await totpCode(secret) });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ totpEnabled: false });
    expect(await db.prisma.adminUser.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ totpSecret: null, totpEnabledAt: null });
    await login('other@two.example');

    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: row.id, action: { startsWith: 'admin_user.totp' } }, orderBy: { id: 'asc' } });
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([
      ['admin_user.totp_enabled', 'user:other@two.example'],
      ['admin_user.totp_disabled', 'user:other@two.example'],
    ]);
    expect((await call(partnerKey, 'POST', '/v1/auth/totp/setup')).status).toBe(403);
  });

  it('should let a read-only person change its own locale, name, password and TOTP and sign out, but nothing of the tenant', async () => {
    const tenant = await login('tenant@one.example');
    await call(tenant, 'POST', '/v1/users', { email: 'viewer@one.example', displayName: 'Viewer', role: 'READ_ONLY', accountId, password: PASSWORD });
    const viewer = await login('viewer@one.example');
    const patched = await call(viewer, 'PATCH', '/v1/auth/me', { locale: 'de', displayName: 'Betrachter' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ locale: 'de', displayName: 'Betrachter', role: 'READ_ONLY' });
    expect((await call(viewer, 'PATCH', '/v1/auth/me', { role: 'TENANT_ADMIN' })).status).toBe(400);
    expect((await call(viewer, 'POST', '/v1/auth/totp/setup')).status).toBe(200);
    expect((await call(viewer, 'PATCH', `/v1/accounts/${accountId}/journal`, { requireTls: true })).status).toBe(403);
    const self = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'viewer@one.example' } });
    expect((await call(viewer, 'PATCH', `/v1/users/${self.id}`, { role: 'TENANT_ADMIN' })).status).toBe(403);

    const wrong = await call(viewer, 'POST', '/v1/auth/password', { currentPassword: 'not the current one', newPassword: 'a brand new passphrase' });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', errors: [{ field: 'currentPassword' }] });
    expect((await call(viewer, 'POST', '/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'short' })).status).toBe(400);
    const other = await login('viewer@one.example');
    const changed = await call(viewer, 'POST', '/v1/auth/password', { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' });
    expect(changed.status).toBe(204);
    expect((await call(viewer, 'GET', '/v1/auth/me')).status).toBe(401);
    expect((await call(other, 'GET', '/v1/auth/me')).status).toBe(401);
    const old = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'viewer@one.example', password: PASSWORD }) });
    expect(old.status).toBe(401);
    const fresh = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'viewer@one.example', password: 'a brand new passphrase' }) });
    expect(fresh.status).toBe(200);
    const session = { cookie: fresh.headers.get('set-cookie')!.split(';')[0]!, csrfToken: ((await fresh.json()) as { csrfToken: string }).csrfToken };
    expect((await call(session, 'POST', '/v1/auth/logout')).status).toBe(204);
    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: self.id, actor: 'user:viewer@one.example' } });
    expect(audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['admin_user.updated', 'admin_user.password_set', 'admin_user.signed_out']));
  });
});
