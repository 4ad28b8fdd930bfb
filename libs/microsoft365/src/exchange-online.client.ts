import { randomUUID } from 'node:crypto';
import { AppTokenProvider } from './app-token.provider';
import { parseRetryAfter, type GraphClientOptions } from './graph.client';
import { ExchangeOnlineError } from './microsoft365.errors';
import { DEFAULT_EXCHANGE_BASE_URL, stripTrailingSlash } from './microsoft365.settings';

export type ExchangeOnlineClientOptions = Omit<GraphClientOptions, 'limiter'> & {
  /** Objects per page asked for with `Prefer: odata.maxpagesize` (default 1000). */
  pageSize?: number;
  /**
   * `X-AnchorMailbox` of every call. The V3 module sends `UPN:<admin upn>` for delegated sessions; for app-only
   * sessions it anchors on the tenant's system mailbox (not documented). Default: the app-only reading below.
   */
  anchorMailbox?: string;
};

export interface CmdletResult<T> {
  value: T[];
  /** `@adminapi.warnings` of every page (Exchange's non-fatal remarks, e.g. "may take up to 10 minutes"). */
  warnings: string[];
}

/** The PowerShell parameters of a cmdlet as JSON (switches as booleans, multi-valued as arrays). */
export type CmdletParameters = Record<string, string | number | boolean | string[] | null>;

/**
 * Exchange Online cmdlets through the REST endpoint the Exchange Online V3 module uses (WIRE.md §3; not officially
 * documented): `POST <exchange>/adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}`,
 * app-only token for `<exchange>/.default` (permission `Exchange.ManageAsApp`). Follows `@odata.nextLink` (only to
 * the configured host: the token never goes elsewhere) by posting the same body again, gathers `@adminapi.warnings`,
 * types errors from `Type|Code|Message`, retries 429 / 5xx / network failures (Retry-After, else exponential back-off)
 * and renews the token once on 401.
 *
 * Only reads (`Get-*`) are retried after a network failure or a 5xx: a `New-*` whose answer was lost may have been
 * applied, and a blind second call would fail with "already exists" at best. Callers that create objects find them by
 * name before creating (see libs/mode-migrations' mailflow steps). A 429 is always retried: Exchange refused it unrun.
 */
export class ExchangeOnlineClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly tokens: AppTokenProvider,
    readonly tenantId: string,
    exchangeBaseUrl: string = DEFAULT_EXCHANGE_BASE_URL,
    private readonly options: ExchangeOnlineClientOptions = {},
  ) {
    this.base = stripTrailingSlash(exchangeBaseUrl);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get scope(): string {
    return `${this.base}/.default`;
  }

  get endpoint(): string {
    return `${this.base}/adminapi/beta/${encodeURIComponent(this.tenantId)}/InvokeCommand`;
  }

  /** Runs a cmdlet and returns every page of its output. */
  async invoke<T = Record<string, unknown>>(cmdletName: string, parameters: CmdletParameters = {}): Promise<CmdletResult<T>> {
    const body = { CmdletInput: { CmdletName: cmdletName, Parameters: parameters } };
    const value: T[] = [];
    const warnings: string[] = [];
    let url: string | undefined = this.endpoint;
    while (url) {
      const page: Record<string, unknown> = await this.send(cmdletName, url, body, warnings);
      value.push(...((Array.isArray(page.value) ? page.value : []) as T[]));
      const pageWarnings = page['@adminapi.warnings'];
      if (Array.isArray(pageWarnings)) {
        warnings.push(...pageWarnings.filter((warning): warning is string => typeof warning === 'string'));
      }
      const next = page['@odata.nextLink'];
      url = typeof next === 'string' && next ? this.checkLink(cmdletName, next) : undefined;
    }
    return { value, warnings };
  }

  /** `Get-<noun> -Identity <identity>`, or null when Exchange has no such object. */
  async find<T = Record<string, unknown>>(noun: string, identity: string): Promise<T | null> {
    try {
      const { value } = await this.invoke<T>(`Get-${noun}`, { Identity: identity });
      return value[0] ?? null;
    } catch (error) {
      if (error instanceof ExchangeOnlineError && error.isNotFound) {
        return null;
      }
      throw error;
    }
  }

  private checkLink(cmdlet: string, link: string): string {
    if (!link.startsWith(`${this.base}/`)) {
      throw new ExchangeOnlineError(0, cmdlet, 'foreign-link', 'foreign-link', 'a nextLink from Exchange Online points to another host; refusing to send the token there');
    }
    return link;
  }

  private async send(cmdlet: string, url: string, body: unknown, warnings: string[]): Promise<Record<string, unknown>> {
    const maxRetries = this.options.maxRetries ?? 5;
    const rerunnable = /^Get-/i.test(cmdlet);
    let renewedToken = false;
    for (let attempt = 0; ; attempt++) {
      this.options.signal?.throwIfAborted();
      const token = await this.tokens.token(this.tenantId, this.scope);
      let response: Response;
      try {
        const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 120_000);
        response = await this.fetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'content-type': 'application/json',
            'x-cmdletname': cmdlet,
            'x-anchormailbox': this.options.anchorMailbox ?? `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${this.tenantId}`,
            prefer: `odata.maxpagesize=${this.options.pageSize ?? 1000}`,
            'client-request-id': randomUUID(),
          },
          body: JSON.stringify(body),
          signal: this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout,
        });
      } catch (error) {
        this.options.signal?.throwIfAborted();
        if (!rerunnable || attempt >= maxRetries) {
          throw new ExchangeOnlineError(0, cmdlet, 'network', 'network', `Exchange Online could not be reached: ${(error as Error).message}`, null, warnings);
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = null;
      }
      if (response.ok) {
        // Set-/Remove- may answer 204 without a body.
        return (parsed ?? {}) as Record<string, unknown>;
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      const error = ExchangeOnlineError.fromResponse(response.status, cmdlet, parsed, retryAfterMs);
      if (response.status === 401 && !renewedToken) {
        renewedToken = true;
        this.tokens.invalidate(this.tenantId, this.scope);
        continue;
      }
      const retryable = response.status === 429 || (response.status >= 500 && rerunnable);
      if (!retryable || attempt >= maxRetries) {
        throw withWarnings(error, warnings);
      }
      const wait = retryAfterMs ?? (response.status === 429 ? 1000 : this.backoff(attempt));
      if (wait > (this.options.maxRetryAfterMs ?? 120_000)) {
        throw withWarnings(error, warnings);
      }
      await this.sleep(wait);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(30_000, (this.options.backoffBaseMs ?? 1000) * 2 ** attempt);
  }
}

function withWarnings(error: ExchangeOnlineError, warnings: string[]): ExchangeOnlineError {
  return warnings.length === 0 ? error : new ExchangeOnlineError(error.status, error.cmdlet, error.type, error.code, error.message, error.retryAfterMs, [...warnings]);
}
