import { createHash } from 'node:crypto';
import { MimecastError, MimecastErrorCode } from './mimecast.errors';
import { mimecastV1Headers } from './mimecast-signature';
import { formatMimecastDate } from './mimecast-log.validator';
import {
  MIMECAST_LOG_FIELDS,
  MIMECAST_LOG_PATHS,
  type MimecastConnectionSettings,
  type MimecastLogKind,
  type MimecastLogsRequest,
  type MimecastLogsResponse,
} from './mimecast.types';

export interface MimecastClientOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** Retries after a 429 or a 5xx/network failure before giving up (default 5). */
  maxRetries?: number;
  /** First back-off delay after a 5xx; doubles each time (default 1 s, capped at `backoffMaxMs`). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A Retry-After longer than this is not waited for: the poll fails and the next one tries again (default 5 min). */
  maxRetryAfterMs?: number;
  timeoutMs?: number;
  /** Shared OAuth token cache (API 2.0), so tokens outlive one client instance. */
  tokenCache?: MimecastTokenCache;
}

export interface MimecastLogsQuery {
  from: Date;
  to: Date;
  pageSize: number;
  pageToken?: string | null;
}

export interface MimecastLogsPage {
  /** The records of the page as received, not yet validated. */
  records: unknown[];
  /** `meta.pagination.next`, null on the last page. */
  next: string | null;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** API 2.0 bearer tokens by base URL and client id, kept until shortly before they expire. */
export class MimecastTokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  get(key: string, now: number): string | null {
    const cached = this.tokens.get(key);
    return cached && cached.expiresAt > now ? cached.token : null;
  }

  set(key: string, token: string, expiresAt: number): void {
    this.tokens.set(key, { token, expiresAt });
  }

  invalidate(key: string): void {
    this.tokens.delete(key);
  }
}

// Refresh a token this long before Mimecast says it expires, so a request never races the expiry.
const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/** Parses Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) {
    return null;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * A real HTTP client for the Mimecast TTP log endpoints, API 2.0 (OAuth 2.0 client credentials) or
 * API 1.0 (HMAC-signed requests to a regional host). Both return the same envelope and records.
 */
export class MimecastClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private readonly maxRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly tokens: MimecastTokenCache;
  private readonly baseUrl: string;

  constructor(
    private readonly settings: MimecastConnectionSettings,
    options: MimecastClientOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? (() => new Date());
    this.maxRetries = options.maxRetries ?? 5;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokens = options.tokenCache ?? new MimecastTokenCache();
    this.baseUrl = settings.baseUrl.replace(/\/+$/, '');
  }

  /** Fetches one page of one log kind, oldest first. */
  async getLogs(kind: MimecastLogKind, query: MimecastLogsQuery): Promise<MimecastLogsPage> {
    const body: MimecastLogsRequest = {
      meta: { pagination: { pageSize: query.pageSize, ...(query.pageToken ? { pageToken: query.pageToken } : {}) } },
      data: [{ from: formatMimecastDate(query.from), to: formatMimecastDate(query.to), oldestFirst: true }],
    };
    const response = await this.post(MIMECAST_LOG_PATHS[kind], body);
    const field = MIMECAST_LOG_FIELDS[kind];
    if (!Array.isArray(response.data)) {
      throw new MimecastError(MimecastErrorCode.BadResponse, 'response has no data array', false);
    }
    const records: unknown[] = [];
    for (const entry of response.data) {
      const logs = entry?.[field];
      if (!Array.isArray(logs)) {
        throw new MimecastError(MimecastErrorCode.BadResponse, `response data has no ${field} array`, false);
      }
      records.push(...logs);
    }
    const next = response.meta?.pagination?.next;
    return { records, next: typeof next === 'string' && next !== '' ? next : null };
  }

  private async post(path: string, body: unknown): Promise<MimecastLogsResponse> {
    let attempt = 0;
    let refreshedToken = false;
    for (;;) {
      let response: Response;
      try {
        response = await this.fetch(`${this.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(await this.authHeaders(path)) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        // A token endpoint that is down or throttling is retried like the API itself; a refused secret is not.
        if (error instanceof MimecastError && error.code !== MimecastErrorCode.Unavailable) {
          throw error;
        }
        attempt = await this.backOff(attempt, error instanceof MimecastError ? error.message : `network error on ${path}: ${(error as Error).message}`);
        continue;
      }

      if (response.status === 401 && this.settings.apiVersion === 'V2' && !refreshedToken) {
        // An expired or revoked bearer token: fetch a fresh one and try once more.
        await response.body?.cancel();
        this.tokens.invalidate(this.tokenKey());
        refreshedToken = true;
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new MimecastError(MimecastErrorCode.Unauthorized, `Mimecast refused the credentials (${response.status})`, false, response.status);
      }
      if (response.status === 429) {
        await response.body?.cancel();
        const wait = parseRetryAfter(response.headers.get('retry-after'), this.now()) ?? this.backoffDelay(attempt);
        if (attempt >= this.maxRetries || wait > this.maxRetryAfterMs) {
          throw new MimecastError(MimecastErrorCode.RateLimited, `Mimecast rate limit on ${path} (retry after ${wait} ms)`, true, 429);
        }
        await this.sleep(wait);
        attempt++;
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        attempt = await this.backOff(attempt, `Mimecast answered ${response.status} on ${path}`, response.status);
        continue;
      }
      if (!response.ok) {
        const text = await response.text();
        throw new MimecastError(MimecastErrorCode.BadResponse, `Mimecast answered ${response.status} on ${path}: ${text.slice(0, 200)}`, false, response.status);
      }
      return this.parseEnvelope(path, await response.text());
    }
  }

  private parseEnvelope(path: string, text: string): MimecastLogsResponse {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new MimecastError(MimecastErrorCode.BadResponse, `Mimecast answered ${path} with a body that is not JSON`, false, 200);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MimecastError(MimecastErrorCode.BadResponse, `Mimecast answered ${path} with a body that is not an object`, false, 200);
    }
    const envelope = parsed as MimecastLogsResponse;
    // Mimecast reports many failures (bad filters, expired API 1.0 bindings) as HTTP 200 with `fail[]`.
    const failures = Array.isArray(envelope.fail) ? envelope.fail : [];
    if (failures.length > 0) {
      const errors = failures.flatMap((failure) => failure?.errors ?? []);
      const described = errors.map((error) => `${error.code ?? 'unknown'}: ${error.message ?? ''}`.trim()).join('; ') || 'fail[] not empty';
      throw new MimecastError(MimecastErrorCode.ApiFailure, `Mimecast reported a failure on ${path}: ${described}`, errors.some((error) => error.retryable === true), 200);
    }
    return envelope;
  }

  private backoffDelay(attempt: number): number {
    return Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
  }

  /** Waits before the next attempt after a 5xx or network failure; throws once the retries are spent. */
  private async backOff(attempt: number, message: string, status?: number): Promise<number> {
    if (attempt >= this.maxRetries) {
      throw new MimecastError(MimecastErrorCode.Unavailable, message, true, status);
    }
    await this.sleep(this.backoffDelay(attempt));
    return attempt + 1;
  }

  private tokenKey(): string {
    if (this.settings.apiVersion !== 'V2') {
      return '';
    }
    // The secret is part of the key: a token obtained with old or other credentials must never answer for new ones.
    const { clientId, clientSecret } = this.settings.credentials;
    return `${this.baseUrl}|${clientId}|${createHash('sha256').update(clientSecret).digest('hex')}`;
  }

  private async authHeaders(path: string): Promise<Record<string, string>> {
    if (this.settings.apiVersion === 'V1') {
      return mimecastV1Headers(this.settings.credentials, path, this.now());
    }
    return { authorization: `Bearer ${await this.accessToken()}` };
  }

  private async accessToken(): Promise<string> {
    if (this.settings.apiVersion !== 'V2') {
      throw new Error('OAuth tokens are for API 2.0 connections');
    }
    const key = this.tokenKey();
    const cached = this.tokens.get(key, this.now().getTime());
    if (cached) {
      return cached;
    }
    const { clientId, clientSecret } = this.settings.credentials;
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new MimecastError(MimecastErrorCode.Unavailable, `network error on /oauth/token: ${(error as Error).message}`, true);
    }
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new MimecastError(MimecastErrorCode.Unavailable, `Mimecast answered ${response.status} on /oauth/token`, true, response.status);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new MimecastError(MimecastErrorCode.Unauthorized, `Mimecast refused the client credentials (${response.status})`, false, response.status);
    }
    const token = (await response.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
    if (!token || typeof token.access_token !== 'string' || token.access_token === '') {
      throw new MimecastError(MimecastErrorCode.BadResponse, 'the OAuth token response has no access_token', false, response.status);
    }
    const lifetimeMs = (typeof token.expires_in === 'number' ? token.expires_in : 1800) * 1000;
    this.tokens.set(key, token.access_token, this.now().getTime() + Math.max(0, lifetimeMs - TOKEN_EXPIRY_MARGIN_MS));
    return token.access_token;
  }
}
