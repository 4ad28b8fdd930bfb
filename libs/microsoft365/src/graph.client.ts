import { AppTokenProvider } from './app-token.provider';
import { MailboxLimiter } from './mailbox-limiter';
import { GraphError } from './microsoft365.errors';
import { stripTrailingSlash } from './microsoft365.settings';

export interface GraphClientOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Shared per-mailbox concurrency and throttling state (one per process). */
  limiter?: MailboxLimiter;
  /** Retries after a 429, 5xx or network failure before giving up (default 5). */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited for: the call fails with the 429 (default 2 min). */
  maxRetryAfterMs?: number;
  /** First back-off after a 5xx without Retry-After; doubles each time (default 1 s, at most 30 s). */
  backoffBaseMs?: number;
  timeoutMs?: number;
  /** Aborts every request of this client (a worker shutting down). */
  signal?: AbortSignal;
}

export interface GraphRequestOptions {
  body?: unknown;
  /** The mailbox (user id or UPN) the request acts on: per-mailbox concurrency and throttling apply. */
  mailbox?: string;
  headers?: Record<string, string>;
}

export interface GraphResponse<T> {
  status: number;
  body: T;
}

export interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** One request of a JSON batch (concepts/json-batching.md); `url` is relative to the version root. */
export interface GraphBatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export interface GraphBatchResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Graph's documented maximum of requests in one `$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

/** Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3), in ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) {
    return null;
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim()) * 1000;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** OData string literal: single quotes doubled (OData ABNF, SQUOTE-in-string). */
export const odataString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * Microsoft Graph v1.0 for one customer tenant with the app-only token of Mailwarden's app. Follows
 * `@odata.nextLink` as given (only to the configured Graph host: the bearer token never goes elsewhere), batches
 * with `$batch`, waits out 429 Retry-After per request and per mailbox, retries 5xx and network failures with
 * back-off, renews the token once on 401, and keeps to 4 concurrent requests per mailbox (MailboxLimiter).
 */
export class GraphClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly limiter: MailboxLimiter;

  constructor(
    private readonly tokens: AppTokenProvider,
    readonly tenantId: string,
    graphBaseUrl: string,
    private readonly options: GraphClientOptions = {},
  ) {
    this.base = stripTrailingSlash(graphBaseUrl);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.limiter = options.limiter ?? new MailboxLimiter();
  }

  /** `path` relative to /v1.0 (`/users/...`) or an absolute nextLink / deltaLink. */
  request<T>(method: string, path: string, init: GraphRequestOptions = {}): Promise<GraphResponse<T>> {
    const url = this.resolve(path);
    if (!init.mailbox) {
      return this.send<T>(method, url, init, null);
    }
    const key = `${this.tenantId}/${init.mailbox.toLowerCase()}`;
    return this.limiter.run(key, () => this.send<T>(method, url, init, key));
  }

  async get<T>(path: string, init: GraphRequestOptions = {}): Promise<T> {
    return (await this.request<T>('GET', path, init)).body;
  }

  /** Every page of a collection, following `@odata.nextLink`; the last page's `@odata.deltaLink` is returned with the items. */
  async getAll<T>(path: string, init: GraphRequestOptions = {}): Promise<{ items: T[]; deltaLink: string | null }> {
    const items: T[] = [];
    let next: string | undefined = path;
    let deltaLink: string | null = null;
    while (next) {
      const page: GraphPage<T> = await this.get<GraphPage<T>>(next, init);
      items.push(...(page.value ?? []));
      deltaLink = page['@odata.deltaLink'] ?? deltaLink;
      next = page['@odata.nextLink'];
    }
    return { items, deltaLink };
  }

  /**
   * Sends requests through `$batch`, at most 20 per call. The outer answer is 200 even when inner requests fail, so
   * each inner status is looked at: an inner 429 is sent again (alone with the other throttled ones) after its
   * Retry-After; every other inner answer is returned as it came, by request id.
   */
  async batch(requests: readonly GraphBatchRequest[]): Promise<Map<string, GraphBatchResponse>> {
    const results = new Map<string, GraphBatchResponse>();
    for (let start = 0; start < requests.length; start += GRAPH_BATCH_LIMIT) {
      // json-batching.md: an inner request with a body must carry its Content-Type header.
      let pending = requests
        .slice(start, start + GRAPH_BATCH_LIMIT)
        .map((request) =>
          request.body !== undefined && !headerOf(request.headers, 'content-type') ? { ...request, headers: { ...request.headers, 'Content-Type': 'application/json' } } : request,
        );
      for (let attempt = 0; pending.length > 0; attempt++) {
        const { body } = await this.request<{ responses?: GraphBatchResponse[] }>('POST', '/$batch', { body: { requests: pending } });
        const throttled: GraphBatchRequest[] = [];
        let wait = 0;
        for (const response of body.responses ?? []) {
          const request = pending.find((candidate) => candidate.id === response.id);
          if (response.status === 429 && request && attempt < (this.options.maxRetries ?? 5)) {
            throttled.push(request);
            wait = Math.max(wait, parseRetryAfter(headerOf(response.headers, 'retry-after')) ?? 1000);
          } else {
            results.set(response.id, response);
          }
        }
        if (throttled.length > 0) {
          if (wait > (this.options.maxRetryAfterMs ?? 120_000)) {
            throttled.forEach((request) => results.set(request.id, { id: request.id, status: 429, body: { error: { code: 'TooManyRequests', message: 'throttled' } } }));
            break;
          }
          await this.sleep(wait);
        }
        const retried = new Set(throttled.map((request) => request.id));
        // A retried request may not depend on one that already completed: that answer is final.
        pending = throttled.map((request) => (request.dependsOn ? { ...request, dependsOn: request.dependsOn.filter((id) => retried.has(id)) } : request));
      }
    }
    return results;
  }

  private resolve(path: string): string {
    if (/^https?:\/\//i.test(path)) {
      if (!path.startsWith(`${this.base}/`)) {
        throw new GraphError(0, 'foreign-link', 'a link from Graph points to another host; refusing to send the token there');
      }
      return path;
    }
    return `${this.base}/v1.0${path.startsWith('/') ? path : `/${path}`}`;
  }

  private async send<T>(method: string, url: string, init: GraphRequestOptions, mailboxKey: string | null): Promise<GraphResponse<T>> {
    const maxRetries = this.options.maxRetries ?? 5;
    let renewedToken = false;
    for (let attempt = 0; ; attempt++) {
      if (mailboxKey) {
        await this.limiter.waitIfPaused(mailboxKey);
      }
      this.options.signal?.throwIfAborted();
      const token = await this.tokens.token(this.tenantId);
      let response: Response;
      try {
        const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
        response = await this.fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...init.headers,
          },
          body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
          signal: this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout,
        });
      } catch (error) {
        this.options.signal?.throwIfAborted();
        if (attempt >= maxRetries) {
          throw new GraphError(0, 'network', `Microsoft Graph could not be reached: ${(error as Error).message}`);
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      const text = await response.text();
      let body: unknown = null;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      }
      if (response.ok) {
        return { status: response.status, body: body as T };
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      const error = GraphError.fromResponse(response.status, body, retryAfterMs);
      if (response.status === 401 && !renewedToken) {
        // Expired or revoked token (InvalidAuthenticationToken): one new token, then the answer stands.
        renewedToken = true;
        this.tokens.invalidate(this.tenantId);
        continue;
      }
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= maxRetries) {
        throw error;
      }
      const wait = retryAfterMs ?? (response.status === 429 ? 1000 : this.backoff(attempt));
      if (wait > (this.options.maxRetryAfterMs ?? 120_000)) {
        throw error;
      }
      if (response.status === 429 && mailboxKey) {
        this.limiter.pause(mailboxKey, wait);
      } else {
        await this.sleep(wait);
      }
    }
  }

  private backoff(attempt: number): number {
    return Math.min(30_000, (this.options.backoffBaseMs ?? 1000) * 2 ** attempt);
  }
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) {
    return undefined;
  }
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key ? headers[key] : undefined;
}
