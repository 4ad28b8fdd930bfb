import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TokenError } from './microsoft365.errors';
import { DEFAULT_EXCHANGE_BASE_URL, stripTrailingSlash, type Microsoft365AppSettings } from './microsoft365.settings';

export interface AppTokenProviderOptions {
  fetch?: typeof fetch;
  now?: () => number;
  /** A cached token is renewed this long before it expires (default 5 min). */
  refreshMarginMs?: number;
  timeoutMs?: number;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

/**
 * App-only tokens (OAuth 2.0 client credentials) for Mailwarden's multi-tenant app in each customer tenant, one cache
 * entry per tenant, kept until `refreshMarginMs` before expiry. Concurrent callers share one token request.
 * Entra docs: v2-oauth2-client-creds-grant-flow.md (form fields, `.default` scope), certificate-credentials.md
 * (assertion: PS256, `x5t#S256`, aud = the token endpoint, iss = sub = client id, jti, nbf, exp).
 */
export class AppTokenProvider {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly thumbprint: string | null;

  constructor(
    private readonly settings: Microsoft365AppSettings,
    private readonly options: AppTokenProviderOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.thumbprint =
      settings.credential.kind === 'certificate' ? createHash('sha256').update(new X509Certificate(settings.credential.certificatePem).raw).digest('base64url') : null;
  }

  /** The Graph scope of the configured cloud (`https://graph.microsoft.com/.default`). */
  get scope(): string {
    return `${stripTrailingSlash(this.settings.graphBaseUrl)}/.default`;
  }

  tokenEndpoint(tenantId: string): string {
    return `${stripTrailingSlash(this.settings.loginBaseUrl)}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
  }

  /** Exchange Online's scope (`https://outlook.office365.com/.default`): InvokeCommand with `Exchange.ManageAsApp`. */
  get exchangeScope(): string {
    return `${stripTrailingSlash(this.settings.exchangeBaseUrl ?? DEFAULT_EXCHANGE_BASE_URL)}/.default`;
  }

  /** A token for `scope` (default Graph's) in the tenant; one cache entry per tenant and scope. */
  async token(tenantId: string, scope: string = this.scope): Promise<string> {
    const key = scope === this.scope ? tenantId : `${tenantId} ${scope}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - (this.options.refreshMarginMs ?? 300_000) > this.now()) {
      return cached.accessToken;
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      return pending;
    }
    const request = this.requestToken(tenantId, scope, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  /** Forget a tenant's token for `scope` (default Graph's): the service said it expired or was revoked. */
  invalidate(tenantId: string, scope: string = this.scope): void {
    this.cache.delete(scope === this.scope ? tenantId : `${tenantId} ${scope}`);
  }

  private async requestToken(tenantId: string, scope: string, key: string): Promise<string> {
    const endpoint = this.tokenEndpoint(tenantId);
    const form = new URLSearchParams({ client_id: this.settings.clientId, scope, grant_type: 'client_credentials' });
    const credential = this.settings.credential;
    if (credential.kind === 'secret') {
      form.set('client_secret', credential.clientSecret);
    } else {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', this.clientAssertion(endpoint, credential.privateKeyPem));
    }
    const response = await this.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== 'string') {
      // The identity platform's error JSON never echoes the secret; only its error fields are kept.
      throw new TokenError(
        response.status,
        typeof body.error === 'string' ? body.error : `http-${response.status}`,
        typeof body.error_description === 'string' ? body.error_description : 'the token endpoint gave no access token',
        Array.isArray(body.error_codes) ? body.error_codes.filter((code): code is number => typeof code === 'number') : [],
      );
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3599);
    this.cache.set(key, { accessToken: body.access_token, expiresAt: this.now() + expiresIn * 1000 });
    return body.access_token;
  }

  private clientAssertion(audience: string, privateKeyPem: string): string {
    const issuedAt = Math.floor(this.now() / 1000);
    return jwt.sign({ aud: audience, iss: this.settings.clientId, sub: this.settings.clientId, jti: randomUUID(), nbf: issuedAt, iat: issuedAt, exp: issuedAt + 600 }, privateKeyPem, {
      algorithm: 'PS256',
      header: { alg: 'PS256', typ: 'JWT', 'x5t#S256': this.thumbprint! } as jwt.JwtHeader,
    });
  }
}
