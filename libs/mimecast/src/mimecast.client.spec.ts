import { MimecastClient, parseRetryAfter } from './mimecast.client';
import { MimecastError, MimecastErrorCode } from './mimecast.errors';
import { MimecastLogKind } from './mimecast.types';

const NOW = new Date('2026-11-25T15:00:00Z');
const QUERY = { from: new Date('2026-11-25T14:00:00Z'), to: NOW, pageSize: 2 };
const V2 = { apiVersion: 'V2' as const, baseUrl: 'https://api.example/', credentials: { clientId: 'id', clientSecret: 'secret' } };

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const token = () => json(200, { access_token: 'tok', token_type: 'Bearer', expires_in: 1800 });
const page = (records: unknown[], next?: string) =>
  json(200, { meta: { status: 200, pagination: { pageSize: 2, ...(next === undefined ? {} : { next }) } }, data: [{ clickLogs: records }], fail: [] });

function clientWith(responses: Response[], sleeps: number[] = []) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) {
      throw new Error('no more responses');
    }
    return next;
  }) as unknown as typeof globalThis.fetch;
  const client = new MimecastClient(V2, {
    fetch,
    now: () => NOW,
    backoffBaseMs: 5,
    maxRetries: 2,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { client, calls };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof MimecastError ? error.code : `other: ${(error as Error).message}`),
  );

describe('parseRetryAfter', () => {
  it('should read delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
  });

  it('should read an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 15:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:00:00 GMT', NOW)).toBe(0);
  });

  it('should return null for a missing or unreadable value', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
  });
});

describe(MimecastClient.name, () => {
  it('should post the documented request with a bearer token and read the page', async () => {
    const { client, calls } = clientWith([token(), page([{ a: 1 }], 'tok-2')]);

    const result = await client.getLogs(MimecastLogKind.Url, { ...QUERY, pageToken: 'tok-1' });

    expect(result).toEqual({ records: [{ a: 1 }], next: 'tok-2' });
    expect(calls[0]!.url).toBe('https://api.example/oauth/token');
    expect(calls[0]!.init.body).toBe('client_id=id&client_secret=secret&grant_type=client_credentials');
    expect(calls[1]!.url).toBe('https://api.example/api/ttp/url/get-logs');
    expect((calls[1]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    expect(JSON.parse(calls[1]!.init.body as string)).toEqual({
      meta: { pagination: { pageSize: 2, pageToken: 'tok-1' } },
      data: [{ from: '2026-11-25T14:00:00+0000', to: '2026-11-25T15:00:00+0000', oldestFirst: true }],
    });
  });

  it('should reuse the cached token', async () => {
    const { client, calls } = clientWith([token(), page([]), page([])]);
    await client.getLogs(MimecastLogKind.Url, QUERY);
    await client.getLogs(MimecastLogKind.Url, QUERY);
    expect(calls.filter((call) => call.url.endsWith('/oauth/token'))).toHaveLength(1);
  });

  it('should treat an empty next token as the last page', async () => {
    const { client } = clientWith([token(), page([], '')]);
    await expect(client.getLogs(MimecastLogKind.Url, QUERY)).resolves.toEqual({ records: [], next: null });
  });

  it('should give up after one token refresh when 401 persists', async () => {
    const { client, calls } = clientWith([token(), json(401, {}), token(), json(401, {})]);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.Unauthorized);
    expect(calls).toHaveLength(4);
  });

  it('should not wait for a Retry-After longer than it allows', async () => {
    const sleeps: number[] = [];
    const { client } = clientWith([token(), json(429, {}, { 'retry-after': '86400' })], sleeps);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.RateLimited);
    expect(sleeps).toEqual([]);
  });

  it('should back off on network errors and report the service unavailable', async () => {
    const sleeps: number[] = [];
    const { client } = clientWith([token()], sleeps);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.Unavailable);
    expect(sleeps).toEqual([5, 10]);
  });

  it('should retry a token endpoint that is unavailable but not one that refuses the secret', async () => {
    const sleeps: number[] = [];
    const { client } = clientWith([json(503, {}), token(), page([])], sleeps);
    await expect(client.getLogs(MimecastLogKind.Url, QUERY)).resolves.toEqual({ records: [], next: null });
    expect(sleeps).toEqual([5]);

    const refused = clientWith([json(400, { error: 'invalid_client' })], sleeps);
    expect(await codeOf(refused.client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.Unauthorized);
    expect(sleeps).toEqual([5]);
  });

  it('should report fail[] with its codes and whether it is retryable', async () => {
    const { client } = clientWith([
      token(),
      json(200, { meta: { status: 200 }, data: [], fail: [{ errors: [{ code: 'err_throttled', message: 'slow down', retryable: true }] }] }),
    ]);
    const error = await client.getLogs(MimecastLogKind.Url, QUERY).catch((caught: MimecastError) => caught);
    expect(error).toMatchObject({ code: MimecastErrorCode.ApiFailure, retryable: true });
    expect((error as Error).message).toContain('err_throttled: slow down');
  });

  it('should refuse a body that is not the documented envelope', async () => {
    const { client } = clientWith([
      token(),
      new Response('<html>', { status: 200 }),
      json(200, { meta: {}, data: [{ attachmentLogs: [] }], fail: [] }),
      json(400, { error: 'bad' }),
    ]);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.BadResponse);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.BadResponse);
    expect(await codeOf(client.getLogs(MimecastLogKind.Url, QUERY))).toBe(MimecastErrorCode.BadResponse);
  });
});
