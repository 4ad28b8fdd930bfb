import { AdminUserRepository, AuditRepository, type PrismaService } from '@mailwarden/db';
import { FakeMicrosoft365, freePort, TestFactories, type FakeIdentityUser, type TestDatabase } from '@mailwarden/testing';
import { startTestAdminApi, type TestAdminApi } from '../../test/admin-api.harness';

jest.setTimeout(120_000);

/** What a browser keeps between requests of one sign-in: its cookies. */
class Browser {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: this.cookies.size > 0 ? { cookie: this.header() } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split('; ');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (attributes.includes('Max-Age=0')) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
    return response;
  }
}

/** OpenID Connect sign-in (code + PKCE, state, nonce) against the fake Microsoft identity platform, and the attacks on it. */
describe('admin API OpenID Connect sign-in (fake Microsoft identity platform)', () => {
  let api: TestAdminApi;
  let db: TestDatabase;
  let fake: FakeMicrosoft365;
  let baseUrl: string;
  let accountId: string;
  let ada: FakeIdentityUser;

  beforeAll(async () => {
    fake = new FakeMicrosoft365();
    await fake.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    fake.identity.redirectUris.add(`${baseUrl}/v1/auth/oidc/microsoft/callback`);
    api = await startTestAdminApi({
      port,
      env: {
        PUBLIC_BASE_URL: baseUrl,
        OIDC_PROVIDER: 'microsoft',
        OIDC_ISSUER: fake.identity.issuer,
        OIDC_CLIENT_ID: fake.identity.clientId,
        OIDC_CLIENT_SECRET: fake.identity.clientSecret,
        OIDC_MATCH_PREFERRED_USERNAME: 'true',
      },
    });
    db = api.db;
    const prisma = db.prisma as unknown as PrismaService;
    accountId = (await new TestFactories(db.prisma).newAccount()).id;
    const users = new AdminUserRepository(prisma, new AuditRepository(prisma));
    await users.create({ email: 'ada@contoso.example', displayName: 'Ada', passwordHash: null, role: 'TENANT_ADMIN', partnerId: null, accountId }, { actor: 'test', actorKeyId: null });
    ada = fake.identity.newUser('Ada@Contoso.example');
  });

  afterAll(async () => {
    await api?.close();
    await fake?.stop();
  });

  beforeEach(() => {
    fake.identity.signInAs = ada;
    fake.identity.idTokenOverrides = {};
    fake.identity.signWithForeignKey = false;
  });

  /** start → the provider's authorize → back at the callback; returns each hop. */
  const signIn = async (browser: Browser, returnTo = '/console/') => {
    const start = await browser.get(`${baseUrl}/v1/auth/oidc/microsoft/start?returnTo=${encodeURIComponent(returnTo)}`);
    expect(start.status).toBe(302);
    const authorize = await browser.get(start.headers.get('location')!);
    expect(authorize.status).toBe(302);
    const callbackUrl = authorize.headers.get('location')!;
    return { start, callbackUrl, callback: () => browser.get(callbackUrl) };
  };

  it('should list the provider, sign a pre-created user in with code + PKCE S256 + state + nonce, and redirect to returnTo with a session', async () => {
    const providers = await fetch(`${baseUrl}/v1/auth/oidc/providers`);
    expect(await providers.json()).toEqual({ items: [{ id: 'microsoft', displayName: 'Microsoft', startUrl: '/v1/auth/oidc/microsoft/start' }] });

    const browser = new Browser();
    const { start, callback } = await signIn(browser, '/console/messages?direction=INBOUND');
    const authorizeUrl = new URL(start.headers.get('location')!);
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${fake.baseUrl}/${fake.identity.tenantId}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
      client_id: fake.identity.clientId,
      response_type: 'code',
      code_challenge_method: 'S256',
      redirect_uri: `${baseUrl}/v1/auth/oidc/microsoft/callback`,
      scope: 'openid profile email',
    });
    expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorizeUrl.searchParams.get('nonce')).toBeTruthy();
    expect(start.headers.getSetCookie()[0]).toMatch(/^mw_oidc_state=[^;]+; Path=\/v1\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);

    const done = await callback();
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/console/messages?direction=INBOUND');
    expect(done.headers.getSetCookie().some((line) => /^mw_session=[A-Za-z0-9_-]{43}; Path=\/; .*HttpOnly; SameSite=Strict; Secure$/.test(line))).toBe(true);
    expect(browser.cookies.has('mw_oidc_state')).toBe(false);
    const me = await browser.get(`${baseUrl}/v1/auth/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'ada@contoso.example', role: 'TENANT_ADMIN', accountId });

    const user = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'ada@contoso.example' } });
    expect(user).toMatchObject({ oidcIssuer: fake.identity.issuer, oidcSubject: ada.sub });
    const audit = await db.prisma.auditEvent.findMany({ where: { objectId: user.id }, orderBy: { id: 'asc' } });
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual(
      expect.arrayContaining([
        ['admin_user.oidc_linked', 'user:ada@contoso.example'],
        ['admin_user.signed_in', 'user:ada@contoso.example'],
      ]),
    );
    expect((await db.prisma.adminSession.findFirstOrThrow({ where: { userId: user.id } })).method).toBe('oidc:microsoft');
  });

  it('should keep signing the linked identity in after its preferred_username changes, and refuse another identity claiming the address', async () => {
    fake.identity.signInAs = { ...ada, preferredUsername: 'ada.renamed@contoso.example' };
    const renamed = await (await signIn(new Browser())).callback();
    expect(renamed.status).toBe(302);

    fake.identity.signInAs = fake.identity.newUser('ada@contoso.example');
    const impostor = await (await signIn(new Browser())).callback();
    expect(impostor.status).toBe(403);
    expect(await impostor.json()).toMatchObject({ code: 'OIDC_USER_UNKNOWN' });
  });

  it('should refuse an identity no admin created (no self-provisioning) and one whose email is not verified', async () => {
    fake.identity.signInAs = fake.identity.newUser('stranger@contoso.example');
    const stranger = await (await signIn(new Browser())).callback();
    expect(stranger.status).toBe(403);
    expect(await stranger.json()).toMatchObject({ code: 'OIDC_USER_UNKNOWN' });
    expect(stranger.headers.getSetCookie().some((line) => line.startsWith('mw_session='))).toBe(false);
    expect(await db.prisma.adminUser.count({ where: { email: 'stranger@contoso.example' } })).toBe(0);

    const prisma = db.prisma as unknown as PrismaService;
    await new AdminUserRepository(prisma, new AuditRepository(prisma)).create(
      { email: 'bob@contoso.example', displayName: 'Bob', passwordHash: null, role: 'READ_ONLY', partnerId: null, accountId },
      { actor: 'test', actorKeyId: null },
    );
    // Microsoft's email claim is not verified: it matches no one (the UPN here is another name).
    fake.identity.signInAs = fake.identity.newUser('b.other@contoso.example', { email: 'bob@contoso.example' });
    expect((await (await signIn(new Browser())).callback()).status).toBe(403);
    // A provider that says the address is verified (email_verified: true) is matched by it.
    fake.identity.signInAs = fake.identity.newUser('b.other@contoso.example', { email: 'Bob@contoso.example', extraClaims: { email_verified: true } });
    const verified = new Browser();
    expect((await (await signIn(verified)).callback()).status).toBe(302);
    expect(await (await verified.get(`${baseUrl}/v1/auth/me`)).json()).toMatchObject({ email: 'bob@contoso.example', role: 'READ_ONLY' });
  });

  it('should refuse a callback with a state that is not this browser\'s, a replayed callback, and a missing state', async () => {
    const victim = new Browser();
    const { callbackUrl } = await signIn(victim);
    // The attacker's browser (no state cookie, or its own) opens the victim's callback: login CSRF refused.
    const attacker = new Browser();
    await attacker.get(`${baseUrl}/v1/auth/oidc/microsoft/start`);
    const planted = await attacker.get(callbackUrl);
    expect(planted.status).toBe(400);
    expect(await planted.json()).toMatchObject({ code: 'OIDC_SIGN_IN_FAILED' });
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'forged-state');
    expect((await victim.get(forged.toString())).status).toBe(400);

    // The victim's own callback still works once, and its replay does not.
    const fresh = new Browser();
    const flow = await signIn(fresh);
    expect((await flow.callback()).status).toBe(302);
    const stateCookie = new URL(flow.callbackUrl).searchParams.get('state')!;
    const replay = await fetch(flow.callbackUrl, { redirect: 'manual', headers: { cookie: `mw_oidc_state=${stateCookie}` } });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ code: 'OIDC_SIGN_IN_FAILED' });
    const noState = new URL(flow.callbackUrl);
    noState.searchParams.delete('state');
    expect((await fetch(noState, { redirect: 'manual' })).status).toBe(400);
  });

  it('should refuse a stolen code injected into another sign-in (PKCE verifier mismatch) and a code redeemed twice', async () => {
    const victim = new Browser();
    const victimFlow = await signIn(victim);
    const stolenCode = new URL(victimFlow.callbackUrl).searchParams.get('code')!;
    const attacker = new Browser();
    const attackerFlow = await signIn(attacker);
    const injected = new URL(attackerFlow.callbackUrl);
    injected.searchParams.set('code', stolenCode);
    const refusals = fake.identity.refusals.length;
    const response = await attacker.get(injected.toString());
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'OIDC_SIGN_IN_FAILED' });
    expect(fake.identity.refusals.slice(refusals).map((refusal) => refusal.code)).toEqual([501481]);
    expect(attacker.cookies.has('mw_session')).toBe(false);

    // The stolen code was redeemed by that attempt: the victim's own callback now meets "already redeemed".
    const victimDone = await victimFlow.callback();
    expect(victimDone.status).toBe(401);
    expect(fake.identity.refusals.at(-1)!.code).toBe(54005);
  });

  it('should refuse an id_token with another nonce, another audience, or a signature not from the provider\'s keys', async () => {
    for (const tamper of [
      () => (fake.identity.idTokenOverrides = { nonce: 'a-nonce-from-another-sign-in' }),
      () => (fake.identity.idTokenOverrides = { aud: 'another-client' }),
      () => (fake.identity.idTokenOverrides = { iss: 'https://login.microsoftonline.com/another-tenant/v2.0' }),
      () => (fake.identity.signWithForeignKey = true),
    ]) {
      fake.identity.idTokenOverrides = {};
      fake.identity.signWithForeignKey = false;
      tamper();
      const browser = new Browser();
      const response = await (await signIn(browser)).callback();
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'OIDC_SIGN_IN_FAILED' });
      expect(browser.cookies.has('mw_session')).toBe(false);
    }
  });

  it('should refuse a returnTo that leaves the site (open redirect) and take a same-site path', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/ok\r\nLocation: https://evil.example', 'console']) {
      const response = await fetch(`${baseUrl}/v1/auth/oidc/microsoft/start?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      expect({ returnTo, status: response.status }).toEqual({ returnTo, status: 400 });
      expect(await response.json()).toMatchObject({ code: 'INVALID_RETURN_TO' });
    }
    expect(await db.prisma.oidcLoginState.count({ where: { returnTo: { contains: 'evil' } } })).toBe(0);
    const unknown = await fetch(`${baseUrl}/v1/auth/oidc/google/start`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
  });

  it('should answer the provider\'s refusal (the person declined) without a session', async () => {
    fake.identity.signInAs = null;
    const browser = new Browser();
    const response = await (await signIn(browser)).callback();
    expect(response.status).toBe(401);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/access_denied/);
    expect(browser.cookies.has('mw_session')).toBe(false);
  });
});
