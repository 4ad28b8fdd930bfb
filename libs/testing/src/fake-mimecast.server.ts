import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Mimecast that speaks the documented wire format over real HTTP on 127.0.0.1:
 * API 2.0 OAuth client credentials (`/oauth/token`, Bearer tokens that can be expired on demand) and
 * API 1.0 HMAC-signed requests (signature recomputed here, independently of the client's code). It pages
 * its logs (`meta.pagination.next`), and answers scripted faults: 429 with Retry-After, 5xx, `fail[]`.
 */

export type FakeLogKind = 'attachment' | 'impersonation' | 'url';

const PATHS: Record<string, { kind: FakeLogKind; field: string; dateField: string }> = {
  '/api/ttp/attachment/get-logs': { kind: 'attachment', field: 'attachmentLogs', dateField: 'date' },
  '/api/ttp/impersonation/get-logs': { kind: 'impersonation', field: 'impersonationLogs', dateField: 'eventTime' },
  '/api/ttp/url/get-logs': { kind: 'url', field: 'clickLogs', dateField: 'date' },
};

export interface FakeV2Credentials {
  clientId: string;
  clientSecret: string;
}

export interface FakeV1Credentials {
  appId: string;
  appKey: string;
  accessKey: string;
  secretKey: string;
}

export type FakeFault =
  | { status: 429; retryAfter?: string }
  | { status: 500 | 502 | 503 | 400 }
  | { fail: Array<{ code: string; message: string; retryable: boolean }> };

export interface FakeMimecastRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

function parseDate(value: unknown): number {
  if (typeof value !== 'string') {
    return Number.NaN;
  }
  // `2024-11-17T03:23:20+0000` → `2024-11-17T03:23:20+00:00`
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

export class FakeMimecastServer {
  readonly requests: FakeMimecastRequest[] = [];
  private server?: Server;
  private readonly tokens = new Set<string>();
  private readonly faults = new Map<string, FakeFault[]>();
  private readonly logs: Record<FakeLogKind, Array<Record<string, unknown>>> = { attachment: [], impersonation: [], url: [] };

  constructor(
    private readonly auth: { v2?: FakeV2Credentials; v1?: FakeV1Credentials },
    private readonly tokenLifetimeSeconds = 1800,
  ) {}

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) {
      throw new Error('fake Mimecast server not started');
    }
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch((error: Error) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(error.message);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  addLogs(kind: FakeLogKind, records: Array<Record<string, unknown>>): void {
    this.logs[kind].push(...records);
  }

  /** The next request(s) to `path` get these answers, in order, instead of the logs. */
  fault(path: string, ...faults: FakeFault[]): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  /** Every token issued so far stops working (401), as when they expire. */
  expireTokens(): void {
    this.tokens.clear();
  }

  logRequests(path: string): Array<{ pageToken?: string; from: string; to: string; pageSize: number }> {
    return this.requests
      .filter((request) => request.path === path && request.status === 200)
      .map((request) => {
        const body = JSON.parse(request.body) as {
          meta: { pagination: { pageSize: number; pageToken?: string } };
          data: Array<{ from: string; to: string }>;
        };
        return { pageToken: body.meta.pagination.pageToken, from: body.data[0]!.from, to: body.data[0]!.to, pageSize: body.meta.pagination.pageSize };
      });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ path, headers: request.headers, body, status });
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
    };

    if (request.method !== 'POST') {
      return send(405, { error: 'method not allowed' });
    }
    if (path === '/oauth/token') {
      return this.token(request, body, send);
    }
    const endpoint = PATHS[path];
    if (!endpoint) {
      return send(404, { error: 'not found' });
    }
    const authProblem = this.checkAuth(request, path);
    if (authProblem) {
      return send(401, { meta: { status: 401 }, data: [], fail: [{ errors: [{ code: authProblem, message: authProblem, retryable: false }] }] });
    }
    const fault = this.faults.get(path)?.shift();
    if (fault) {
      if ('fail' in fault) {
        return send(200, { meta: { status: 200 }, data: [], fail: [{ key: {}, errors: fault.fail }] });
      }
      return send(fault.status, { meta: { status: fault.status }, data: [], fail: [] }, 'retryAfter' in fault && fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
    }
    if (request.headers['content-type'] !== 'application/json') {
      return send(400, { error: 'content-type must be application/json' });
    }
    const parsed = JSON.parse(body) as {
      meta?: { pagination?: { pageSize?: number; pageToken?: string } };
      data?: Array<{ from?: string; to?: string; oldestFirst?: boolean }>;
    };
    const filter = parsed.data?.[0];
    const pageSize = parsed.meta?.pagination?.pageSize;
    if (!filter?.from || !filter.to || !pageSize || filter.oldestFirst !== true) {
      return send(200, { meta: { status: 200 }, data: [], fail: [{ errors: [{ code: 'err_validation_missing', message: 'from, to, pageSize, oldestFirst', retryable: false }] }] });
    }
    const from = parseDate(filter.from);
    const to = parseDate(filter.to);
    // Mimecast's from/to are inclusive, oldest first.
    const matching = this.logs[endpoint.kind]
      .filter((record) => {
        const at = parseDate(record[endpoint.dateField]);
        return at >= from && at <= to;
      })
      .sort((a, b) => parseDate(a[endpoint.dateField]) - parseDate(b[endpoint.dateField]));
    const token = parsed.meta?.pagination?.pageToken;
    const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8').split(':')[1]) : 0;
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize < matching.length ? Buffer.from(`${endpoint.kind}:${offset + pageSize}`).toString('base64url') : undefined;
    return send(200, {
      meta: { status: 200, pagination: { pageSize, totalCount: matching.length, ...(next ? { next } : {}) } },
      data: [{ [endpoint.field]: page }],
      fail: [],
    });
  }

  private token(request: IncomingMessage, body: string, send: (status: number, payload: unknown) => void): void {
    if (!this.auth.v2) {
      return send(404, { error: 'not found' });
    }
    if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return send(400, { error: 'invalid_request' });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return send(400, { error: 'unsupported_grant_type' });
    }
    if (form.get('client_id') !== this.auth.v2.clientId || form.get('client_secret') !== this.auth.v2.clientSecret) {
      return send(401, { error: 'invalid_client' });
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.add(token);
    send(200, { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, scope: '' });
  }

  /** The reason the request is not authenticated, or null. */
  private checkAuth(request: IncomingMessage, path: string): string | null {
    const authorization = request.headers.authorization ?? '';
    if (authorization.startsWith('Bearer ')) {
      return this.auth.v2 && this.tokens.has(authorization.slice(7)) ? null : 'invalid_token';
    }
    const v1 = this.auth.v1;
    const match = /^MC ([^:]+):(.+)$/.exec(authorization);
    if (!v1 || !match) {
      return 'err_missing_authorization';
    }
    const date = request.headers['x-mc-date'];
    const requestId = request.headers['x-mc-req-id'];
    if (request.headers['x-mc-app-id'] !== v1.appId) {
      return 'err_app_id_mismatch';
    }
    if (typeof date !== 'string' || !/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(date)) {
      return 'err_invalid_date';
    }
    if (typeof requestId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(requestId)) {
      return 'err_invalid_request_id';
    }
    if (match[1] !== v1.accessKey) {
      return 'err_xdk_binding_expired';
    }
    const expected = createHmac('sha1', Buffer.from(v1.secretKey, 'base64')).update(`${date}:${requestId}:${path}:${v1.appKey}`).digest('base64');
    return expected === match[2] ? null : 'err_signature_mismatch';
  }
}
