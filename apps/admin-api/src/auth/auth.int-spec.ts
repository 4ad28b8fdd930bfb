import type { INestApplication } from '@nestjs/common';
import { AdminUserRepository, AuditRepository, DUMMY_SECRET_HASH, hashSecret, type AdminUserView, type PrismaService } from '@mailwarden/db';
import { TestFactories, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../../test/admin-api.harness';
import { AuthService } from './auth.service';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery staple';

/** A browser's session: its cookie and CSRF token. */
interface Session {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

/** Sign-in for people against the real app over HTTP, PostgreSQL and Redis: sessions, CSRF, roles, lockout, audit. */
describe('admin API sign-in for people (sessions, CSRF, roles)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let app: INestApplication;
  let baseUrl: string;
  let users: AdminUserRepository;
  let partnerId: string;
  let accountId: string;
  let otherAccountId: string;
  let foreignAccountId: string;
  let tenantKey: string;
  const operator = { actor: 'test', actorKeyId: null };

  const newUser = (email: string, role: 'PARTNER_ADMIN' | 'TENANT_ADMIN' | 'READ_ONLY', owner: { partnerId?: string; accountId?: string }): Promise<AdminUserView> =>
    hashSecret(PASSWORD).then((passwordHash) =>
      users.create({ email, displayName: email.split('@')[0]!, passwordHash, role, partnerId: owner.partnerId ?? null, accountId: owner.accountId ?? null }, operator),
    );

  beforeAll(async () => {
    api = await startTestAdminApi();
    ({ db, app, baseUrl } = api);
    const prisma = db.prisma as unknown as PrismaService;
    users = new AdminUserRepository(prisma, new AuditRepository(prisma));
    const factories = new TestFactories(db.prisma);
    partnerId = (await db.prisma.partner.create({ data: { name: 'Auth partner' } })).id;
    accountId = (await factories.newAccount({ partnerId, name: 'First tenant' })).id;
    otherAccountId = (await factories.newAccount({ partnerId, name: 'Second tenant' })).id;
    const foreignPartner = await db.prisma.partner.create({ data: { name: 'Foreign partner' } });
    foreignAccountId = (await factories.newAccount({ partnerId: foreignPartner.id, name: 'Foreign tenant' })).id;
    tenantKey = (await new TestFactories(prisma).newApiKey({ name: 'tenant', role: 'TENANT_ADMIN', accountId })).plaintext;
    await newUser('Tenant.Admin@First.example', 'TENANT_ADMIN', { accountId });
    await newUser('reader@first.example', 'READ_ONLY', { accountId });
    await newUser('partner@msp.example', 'PARTNER_ADMIN', { partnerId });
  });

  afterAll(async () => {
    await api?.close();
  });

  const call = (method: string, path: string, init: { session?: Session; csrf?: string | null; body?: unknown; headers?: Record<string, string>; ip?: string } = {}) =>
    fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(init.session ? { cookie: `theme=dark; mw_session=${init.session.cookie.split('=')[1]}` } : {}),
        ...(init.session && init.csrf !== null ? { 'x-csrf-token': init.csrf ?? init.session.csrfToken } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  const login = async (email: string, password = PASSWORD, extra: Record<string, unknown> = {}): Promise<Session> => {
    const response = await call('POST', '/v1/auth/login', { body: { email, password, ...extra } });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie')!;
    const body = (await response.json()) as { csrfToken: string };
    return { cookie: setCookie.split(';')[0]!, csrfToken: body.csrfToken, setCookie };
  };

  it('should sign in with email (any case) and password, set an HttpOnly Secure SameSite=Strict cookie, and answer me with the CSRF token', async () => {
    const response = await call('POST', '/v1/auth/login', { body: { email: 'TENANT.admin@first.EXAMPLE', password: PASSWORD } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: Record<string, unknown>; csrfToken: string };
    expect(body.user).toEqual({
      id: expect.any(String),
      email: 'tenant.admin@first.example',
      displayName: 'Tenant.Admin',
      role: 'TENANT_ADMIN',
      partnerId: null,
      accountId,
      locale: 'en',
      totpEnabled: false,
    });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mw_session=[A-Za-z0-9_-]{43}; /);
    const attributes = setCookie.split('; ').slice(1);
    expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', 'Secure', `Max-Age=${12 * 3600}`]));
    // The token is stored only hashed.
    const token = setCookie.split(';')[0]!.split('=')[1]!;
    expect(await db.prisma.adminSession.count({ where: { tokenHash: token } })).toBe(0);

    const session = { cookie: setCookie.split(';')[0]!, csrfToken: body.csrfToken, setCookie };
    const me = await call('GET', '/v1/auth/me', { session });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ ...body.user, csrfToken: body.csrfToken });
  });

  it('should answer one 401 INVALID_CREDENTIALS for a wrong password, an unknown email and a user without a password, checking the dummy hash for the unknown', async () => {
    const service = app.get(AuthService);
    const checked: string[] = [];
    const original = service.verifyPassword.bind(service);
    const spy = jest.spyOn(service, 'verifyPassword').mockImplementation((password, hash) => {
      checked.push(hash);
      return original(password, hash);
    });
    try {
      await users.create({ email: 'oidc-only@first.example', displayName: 'OIDC only', passwordHash: null, role: 'TENANT_ADMIN', partnerId: null, accountId }, operator);
      const answers = [];
      for (const [email, password] of [
        ['tenant.admin@first.example', 'not the password at all'],
        ['nobody@first.example', PASSWORD],
        ['oidc-only@first.example', PASSWORD],
      ] as const) {
        const response = await call('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': 'ignored' } });
        answers.push({ status: response.status, code: ((await response.json()) as { code: string }).code, cookie: response.headers.get('set-cookie') });
      }
      expect(answers).toEqual(Array(3).fill({ status: 401, code: 'INVALID_CREDENTIALS', cookie: null }));
      expect(checked.slice(1)).toEqual([DUMMY_SECRET_HASH, DUMMY_SECRET_HASH]);
      expect(checked[0]).not.toBe(DUMMY_SECRET_HASH);
    } finally {
      spy.mockRestore();
    }
  });

  it('should answer 400 naming the field for a login without an email or with a huge password', async () => {
    const missing = await call('POST', '/v1/auth/login', { body: { password: PASSWORD } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: expect.arrayContaining([expect.objectContaining({ field: 'email' })]) });
    const huge = await call('POST', '/v1/auth/login', { body: { email: 'tenant.admin@first.example', password: 'x'.repeat(5000) } });
    expect(huge.status).toBe(400);
    expect(await huge.json()).toMatchObject({ errors: expect.arrayContaining([expect.objectContaining({ field: 'password' })]) });
  });

  it('should refuse an unsafe request of a session without its CSRF token or with another one (403), and accept it with its own, audited as the person', async () => {
    const session = await login('tenant.admin@first.example');
    const other = await login('tenant.admin@first.example');
    const without = await call('PATCH', `/v1/accounts/${accountId}/journal`, { session, csrf: null, body: { requireTls: true } });
    expect(without.status).toBe(403);
    expect(await without.json()).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    const wrong = await call('PATCH', `/v1/accounts/${accountId}/journal`, { session, csrf: other.csrfToken, body: { requireTls: true } });
    expect(wrong.status).toBe(403);
    const empty = await call('PATCH', `/v1/accounts/${accountId}/journal`, { session, csrf: '', body: { requireTls: true } });
    expect(empty.status).toBe(403);
    expect((await db.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).journalRequireTls).toBe(false);

    const right = await call('PATCH', `/v1/accounts/${accountId}/journal`, { session, body: { requireTls: true } });
    expect(right.status).toBe(200);
    const entry = await db.prisma.auditEvent.findFirstOrThrow({ where: { accountId, action: 'account.journal_settings_set' }, orderBy: { id: 'desc' } });
    expect(entry).toMatchObject({ actor: 'user:tenant.admin@first.example', actorKeyId: null });
    // Reads need no CSRF token.
    expect((await call('GET', `/v1/accounts/${accountId}/journal`, { session, csrf: null })).status).toBe(200);
  });

  it('should let a read-only user read and refuse it every change (403 READ_ONLY_KEY), even with its CSRF token', async () => {
    const session = await login('reader@first.example');
    expect((await call('GET', `/v1/accounts/${accountId}/journal`, { session })).status).toBe(200);
    const change = await call('PATCH', `/v1/accounts/${accountId}/journal`, { session, body: { requireTls: false } });
    expect(change.status).toBe(403);
    expect(await change.json()).toMatchObject({ code: 'READ_ONLY_KEY' });
  });

  it('should never show a tenant user another tenant (404 as for a missing one), and show a partner admin its own tenants only', async () => {
    const tenant = await login('tenant.admin@first.example');
    expect((await call('GET', `/v1/accounts/${accountId}`, { session: tenant })).status).toBe(200);
    for (const id of [otherAccountId, foreignAccountId]) {
      const response = await call('GET', `/v1/accounts/${id}`, { session: tenant });
      expect(response.status).toBe(404);
      expect((await call('GET', `/v1/accounts/${id}/journal`, { session: tenant })).status).toBe(404);
    }
    const list = (await (await call('GET', '/v1/accounts', { session: tenant })).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((item) => item.id)).toEqual([accountId]);

    const partner = await login('partner@msp.example');
    const partnerList = (await (await call('GET', '/v1/accounts', { session: partner })).json()) as { items: Array<{ id: string }> };
    expect(partnerList.items.map((item) => item.id).sort()).toEqual([accountId, otherAccountId].sort());
    expect((await call('GET', `/v1/accounts/${foreignAccountId}`, { session: partner })).status).toBe(404);
  });

  it('should end the session on logout (cookie deleted, the token refused afterwards) and audit sign-in and sign-out', async () => {
    const session = await login('tenant.admin@first.example');
    const refused = await call('POST', '/v1/auth/logout', { session, csrf: null });
    expect(refused.status).toBe(403);
    const logout = await call('POST', '/v1/auth/logout', { session });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/^mw_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
    const after = await call('GET', '/v1/auth/me', { session });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const actions = await db.prisma.auditEvent.findMany({ where: { actor: 'user:tenant.admin@first.example', action: { in: ['admin_user.signed_in', 'admin_user.signed_out'] } } });
    expect(actions.map((entry) => entry.action)).toEqual(expect.arrayContaining(['admin_user.signed_in', 'admin_user.signed_out']));
    expect(actions.every((entry) => entry.accountId === accountId && entry.partnerId === partnerId)).toBe(true);
  });

  it('should end every session of the person on logout-everywhere, and no one else\'s', async () => {
    const first = await login('tenant.admin@first.example');
    const second = await login('tenant.admin@first.example');
    const reader = await login('reader@first.example');
    const response = await call('POST', '/v1/auth/logout-everywhere', { session: second });
    expect(response.status).toBe(204);
    expect((await call('GET', '/v1/auth/me', { session: first })).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', { session: second })).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', { session: reader })).status).toBe(200);
  });

  it('should refuse a session past its idle expiry or its absolute expiry, and one of a disabled user', async () => {
    const idle = await login('tenant.admin@first.example');
    const absolute = await login('tenant.admin@first.example');
    const sessions = await db.prisma.adminSession.findMany({ orderBy: { createdAt: 'desc' }, take: 2 });
    expect(sessions[0]!.idleExpiresAt.getTime() - sessions[0]!.createdAt.getTime()).toBe(30 * 60_000);
    await db.prisma.adminSession.update({ where: { id: sessions[1]!.id }, data: { idleExpiresAt: new Date(Date.now() - 1000) } });
    await db.prisma.adminSession.update({ where: { id: sessions[0]!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await call('GET', '/v1/auth/me', { session: idle })).status).toBe(401);
    expect((await call('GET', '/v1/auth/me', { session: absolute })).status).toBe(401);

    const disabledUser = await newUser('leaver@first.example', 'TENANT_ADMIN', { accountId });
    const leaver = await login('leaver@first.example');
    await db.prisma.adminUser.update({ where: { id: disabledUser.id }, data: { disabledAt: new Date() } });
    expect((await call('GET', '/v1/auth/me', { session: leaver })).status).toBe(401);
    const again = await call('POST', '/v1/auth/login', { body: { email: 'leaver@first.example', password: PASSWORD } });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('should refuse a forged or unknown session cookie (401) and still take an API key, which wins over a cookie', async () => {
    const forged = await fetch(`${baseUrl}/v1/auth/me`, { headers: { cookie: `mw_session=${'A'.repeat(43)}` } });
    expect(forged.status).toBe(401);
    const malformed = await fetch(`${baseUrl}/v1/accounts`, { headers: { cookie: 'mw_session=../../etc' } });
    expect(malformed.status).toBe(401);
    const session = await login('reader@first.example');
    // With a bearer key the key decides (no CSRF needed, the key's own role): the read-only cookie is ignored.
    const withKey = await fetch(`${baseUrl}/v1/accounts/${accountId}/journal`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tenantKey}`, cookie: session.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ requireTls: false }),
    });
    expect(withKey.status).toBe(200);
    const meWithKey = await fetch(`${baseUrl}/v1/auth/me`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect(meWithKey.status).toBe(403);
    expect(await meWithKey.json()).toMatchObject({ code: 'USER_SESSION_REQUIRED' });
  });

  it('should throttle an address after 10 wrong passwords for one email (429 even for the right password), without locking the person out elsewhere', async () => {
    await newUser('target@first.example', 'TENANT_ADMIN', { accountId });
    // The service itself with one fixed "now" (real Redis windows): a busy machine cannot spread the tries over two
    // one-minute windows. The HTTP path of the same refusals is the 401 test above.
    const service = app.get(AuthService);
    const now = Date.now();
    const headers: string[] = [];
    const response = { append: (_name: string, value: string) => void headers.push(value) };
    const client = { ip: '198.51.100.7', headers: {} };
    const attempt = (email: string, password: string) =>
      service.login({ email, password }, client, response, now).then(
        () => 200,
        (error: { status?: number }) => error.status ?? 500,
      );
    const statuses: number[] = [];
    for (let index = 0; index < 11; index++) {
      statuses.push(await attempt('target@first.example', `guess number ${index}!`));
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    expect(await attempt('target@first.example', PASSWORD)).toBe(429);
    expect(headers).toEqual([]);
    // Another person signs in from the same address meanwhile, and the target from another address.
    expect(await attempt('reader@first.example', PASSWORD)).toBe(200);
    expect(await service.login({ email: 'target@first.example', password: PASSWORD }, { ip: '198.51.100.8', headers: {} }, response, now).then(() => 200)).toBe(200);
  });
});

/** The Secure flag can be turned off for a plain-http host name (SESSION_COOKIE_SECURE=false). */
describe('admin API session cookie without Secure', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let baseUrl: string;

  beforeAll(async () => {
    api = await startTestAdminApi({ env: { SESSION_COOKIE_SECURE: 'false', SESSION_IDLE_MINUTES: '5' } });
    ({ db, baseUrl } = api);
    const prisma = db.prisma as unknown as PrismaService;
    const account = await new TestFactories(db.prisma).newAccount();
    await new AdminUserRepository(prisma, new AuditRepository(prisma)).create(
      { email: 'plain@example.com', displayName: 'Plain', passwordHash: await hashSecret(PASSWORD), role: 'TENANT_ADMIN', partnerId: null, accountId: account.id },
      { actor: 'test', actorKeyId: null },
    );
  });

  afterAll(async () => {
    await api?.close();
  });

  it('should set the cookie without Secure and keep HttpOnly and SameSite=Strict, with the configured idle expiry', async () => {
    const response = await fetch(`${baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'plain@example.com', password: PASSWORD }) });
    expect(response.status).toBe(200);
    const attributes = response.headers.get('set-cookie')!.split('; ');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attributes).not.toContain('Secure');
    const session = await db.prisma.adminSession.findFirstOrThrow();
    expect(session.idleExpiresAt.getTime() - session.createdAt.getTime()).toBe(5 * 60_000);
  });
});
