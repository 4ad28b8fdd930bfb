import { FakeMicrosoft365, makeTestCertificate } from '@mailwarden/testing';
import { AppTokenProvider } from './app-token.provider';
import { GraphClient, type GraphBatchRequest } from './graph.client';
import { MailboxLimiter } from './mailbox-limiter';
import { remediateMailbox } from './mailbox-remediation';
import { GraphError, TokenError } from './microsoft365.errors';
import type { Microsoft365AppSettings } from './microsoft365.settings';

describe(GraphClient.name, () => {
  const fake = new FakeMicrosoft365();
  let tenantId: string;
  let settings: Microsoft365AppSettings;

  beforeAll(async () => {
    const baseUrl = await fake.start();
    tenantId = fake.addTenant();
    fake.consent(tenantId);
    settings = { clientId: fake.clientId, credential: { kind: 'secret', clientSecret: fake.clientSecret }, loginBaseUrl: baseUrl, graphBaseUrl: baseUrl };
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it('should get an app-only token by client secret and keep it until shortly before it expires', async () => {
    let now = Date.now();
    const tokens = new AppTokenProvider(settings, { now: () => now });
    const [first, second] = await Promise.all([tokens.token(tenantId), tokens.token(tenantId)]);
    expect(first).toBe(second);
    now += 3599_000 - 400_000; // still more than 5 minutes left
    expect(await tokens.token(tenantId)).toBe(first);
    now += 200_000; // now inside the refresh margin
    expect(await tokens.token(tenantId)).not.toBe(first);
    const calls = fake.requestsTo(/\/oauth2\/v2\.0\/token$/, 'POST');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body).toEqual({ client_id: fake.clientId, scope: `${fake.baseUrl}/.default`, grant_type: 'client_credentials', client_secret: fake.clientSecret });
  });

  it('should get a token with a certificate (PS256 client assertion) and be refused with another certificate', async () => {
    const certificate = makeTestCertificate();
    fake.registerCertificate(certificate.certificatePem);
    const tokens = new AppTokenProvider({ ...settings, credential: { kind: 'certificate', ...certificate } });
    expect(await tokens.token(tenantId)).toEqual(expect.any(String));
    const form = fake.requestsTo(/\/token$/)[0]!.body as Record<string, string>;
    expect(form).toMatchObject({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' });
    expect(form.client_secret).toBeUndefined();
    const header = JSON.parse(Buffer.from(form.client_assertion!.split('.')[0]!, 'base64url').toString()) as Record<string, string>;
    expect(header).toMatchObject({ alg: 'PS256', typ: 'JWT', 'x5t#S256': expect.any(String) });

    const other = makeTestCertificate();
    const wrong = new AppTokenProvider({ ...settings, credential: { kind: 'certificate', certificatePem: certificate.certificatePem, privateKeyPem: other.privateKeyPem } });
    await expect(wrong.token(tenantId)).rejects.toMatchObject({ name: 'TokenError', error: 'invalid_client' });
  });

  it('should type a refused secret without ever carrying the secret', async () => {
    const wrongSecret = 'wrong-secret-value-123';
    const tokens = new AppTokenProvider({ ...settings, credential: { kind: 'secret', clientSecret: wrongSecret } });
    const error = (await tokens.token(tenantId).catch((caught: unknown) => caught)) as TokenError;
    expect(error).toBeInstanceOf(TokenError);
    expect(error.toJSON()).toMatchObject({ status: 401, error: 'invalid_client', errorCodes: [7000215] });
    expect(`${error.message} ${JSON.stringify(error)} ${error.stack}`).not.toContain(wrongSecret);
    const notConsented = fake.addTenant();
    await expect(new AppTokenProvider(settings).token(notConsented)).rejects.toMatchObject({ error: 'unauthorized_client' });
  });

  it('should follow @odata.nextLink to the last page', async () => {
    const paged = fake.addTenant();
    fake.consent(paged);
    for (let index = 0; index < 25; index++) {
      fake.addUser(paged, { userPrincipalName: `user${index}@paged.example` });
    }
    const graph = new GraphClient(new AppTokenProvider(settings), paged, settings.graphBaseUrl);
    const { items } = await graph.getAll<{ id: string }>('/users?$select=id,mail');
    expect(items).toHaveLength(25);
    expect(fake.requestsTo(/^\/v1\.0\/users$/, 'GET').map((request) => request.query.get('$skiptoken'))).toEqual([null, '10', '20']);
  });

  it('should wait out Retry-After per request and per mailbox, and renew an expired token once', async () => {
    const user = fake.addUser(tenantId, { userPrincipalName: 'throttled@contoso.example' });
    const message = fake.deliver(tenantId, user.id, '<m1@sender.example>');
    let clock = Date.now();
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock += ms;
    };
    const limiter = new MailboxLimiter(4, () => clock, sleep);
    const graph = new GraphClient(new AppTokenProvider(settings), tenantId, settings.graphBaseUrl, { limiter, sleep });
    fake.inject({ path: /\/users\/[^/]+\/messages$/, status: 429, retryAfterSeconds: 2, times: 2 });
    fake.expireTokens();
    const outcome = await remediateMailbox(graph, user.userPrincipalName, '<m1@sender.example>', 'MOVE_TO_DELETED_ITEMS');
    expect(outcome).toMatchObject({ status: 'COMPLETED', graphMessageId: expect.not.stringMatching(message.id) });
    expect(slept).toEqual([2000, 2000]);
    expect(fake.requestsTo(/\/messages$/, 'GET').map((request) => request.status)).toEqual([429, 429, 200]);
    expect(fake.locate(tenantId, user.id, '<m1@sender.example>')).toEqual([{ folder: 'deleteditems', id: expect.any(String) }]);
    // Second time: already there, nothing moved.
    expect(await remediateMailbox(graph, user.userPrincipalName, '<m1@sender.example>', 'MOVE_TO_DELETED_ITEMS')).toMatchObject({ status: 'ALREADY_IN_DESTINATION' });
    expect(fake.requestsTo(/\/move$/, 'POST')).toHaveLength(1);

    fake.expireTokens();
    const before = fake.requestsTo(/\/token$/).length;
    await graph.get(`/users/${user.id}/mailFolders/inbox`, { mailbox: user.id });
    expect(fake.requestsTo(/\/token$/).length).toBe(before + 1);
  });

  it('should keep to four concurrent requests per mailbox', async () => {
    const user = fake.addUser(tenantId, { userPrincipalName: 'busy@contoso.example' });
    fake.latencyMs = 15;
    const graph = new GraphClient(new AppTokenProvider(settings), tenantId, settings.graphBaseUrl);
    await Promise.all(Array.from({ length: 24 }, () => graph.get(`/users/${user.id}/mailFolders/inbox`, { mailbox: user.id })));
    fake.latencyMs = 0;
    expect(fake.maxConcurrentPerMailbox.get(user.id)).toBe(4);
  });

  it('should batch at most 20 requests per $batch and resend only the inner requests answered 429', async () => {
    const users = Array.from({ length: 45 }, (_, index) => fake.addUser(tenantId, { userPrincipalName: `b${index}@contoso.example` }));
    const requests: GraphBatchRequest[] = users.map((user, index) => ({ id: String(index), method: 'GET', url: `/users/${user.id}/mailFolders/inbox` }));
    requests.push({ id: 'missing', method: 'GET', url: '/users/nobody@contoso.example/mailFolders/inbox' });
    const target = fake.deliver(tenantId, users[44]!.id, '<batched@x.example>');
    requests.push({ id: 'move', method: 'POST', url: `/users/${users[44]!.id}/messages/${target.id}/move`, body: { destinationId: 'junkemail' } });
    fake.inject({ path: new RegExp(`/users/${users[3]!.id}/mailFolders/inbox$`), status: 429, retryAfterSeconds: 1 });
    const slept: number[] = [];
    const graph = new GraphClient(new AppTokenProvider(settings), tenantId, settings.graphBaseUrl, { sleep: async (ms) => void slept.push(ms) });
    const responses = await graph.batch(requests);
    expect(responses.size).toBe(47);
    expect([...responses.values()].filter((response) => response.status === 200)).toHaveLength(45);
    expect(responses.get('move')).toMatchObject({ status: 201, body: { parentFolderId: expect.any(String) } });
    expect(fake.locate(tenantId, users[44]!.id, '<batched@x.example>')).toEqual([{ folder: 'junkemail', id: expect.any(String) }]);
    expect(GraphError.fromResponse(responses.get('missing')!.status, responses.get('missing')!.body)).toMatchObject({ status: 404, code: 'ErrorInvalidUser' });
    const outer = fake.requestsTo(/^\/v1\.0\/\$batch$/, 'POST').map((request) => (request.body as { requests: unknown[] }).requests.length);
    expect(outer).toEqual([20, 1, 20, 7]);
    expect(slept).toEqual([1000]);
  });

  it('should name the missing permission as Graph answers it, and refuse a nextLink to another host', async () => {
    const limited = fake.addTenant(['User.Read.All']);
    fake.consent(limited);
    const graph = new GraphClient(new AppTokenProvider(settings), limited, settings.graphBaseUrl);
    const error = (await graph.get('/groups').catch((caught: unknown) => caught)) as GraphError;
    expect(error).toMatchObject({ status: 403, code: 'Authorization_RequestDenied', isAccessDenied: true, requestId: expect.any(String) });
    await expect(graph.get('https://evil.example/v1.0/users')).rejects.toMatchObject({ code: 'foreign-link' });
  });
});
