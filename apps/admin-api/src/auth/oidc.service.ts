import { Inject, Injectable, Logger } from '@nestjs/common';
import * as client from 'openid-client';
import { cookieValue, safeReturnTo, serializeCookie, tokensEqual } from '@mailwarden/auth';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { AdminUserRepository, type AdminUser } from '@mailwarden/db';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { userActor } from './auth.service';
import type { OidcProviderDto } from './dto/oidc.dto';
import { SessionService, type ClientInfo, type CookieResponse } from './session.service';

/** Cookie binding a sign-in in flight to the browser that started it (Lax: the provider's redirect back is cross-site). */
export const OIDC_STATE_COOKIE = 'mw_oidc_state';
const STATE_PATH = '/v1/auth/oidc';
const STATE_TTL_MS = 10 * 60_000;

export interface OidcOptions {
  /** The issuer over plain http (the local fake in tests); never in production. */
  allowHttpIssuer?: boolean;
}
export const OIDC_OPTIONS = Symbol('OIDC_OPTIONS');

/**
 * OpenID Connect sign-in, authorization code + PKCE (S256) with state and nonce, through openid-client (the
 * certified relying party library: discovery, JWKS, id_token signature (non-repudiation checks on), iss / aud /
 * exp / nonce checks). One
 * provider from OIDC_* settings. People are matched to users an admin created: by the (issuer, subject) link, else
 * by a verified email (`email_verified: true`) or, with OIDC_MATCH_PREFERRED_USERNAME, by preferred_username; the
 * first match links the identity. No one is created here.
 *
 * The state is random, kept server-side with the PKCE verifier, the nonce and the return path, used once, and
 * bound to the browser by the `mw_oidc_state` cookie, so a callback URL planted in another browser signs no one
 * in (login CSRF).
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger(OidcService.name);
  private configuration: Promise<client.Configuration> | null = null;
  private readonly provider: string;
  private readonly publicBaseUrl: string;

  constructor(
    private readonly users: AdminUserRepository,
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
    @Inject(OIDC_OPTIONS) private readonly options: OidcOptions,
  ) {
    this.provider = config.OIDC_ISSUER && config.OIDC_CLIENT_ID ? config.OIDC_PROVIDER : '';
    this.publicBaseUrl = config.PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  providers(): OidcProviderDto[] {
    return this.provider
      ? [{ id: this.provider, displayName: this.config.OIDC_DISPLAY_NAME, startUrl: `/v1/auth/oidc/${this.provider}/start` }]
      : [];
  }

  private redirectUri(): string {
    return `${this.publicBaseUrl}/v1/auth/oidc/${this.provider}/callback`;
  }

  private requireProvider(provider: string): void {
    if (!this.provider) {
      throw new ApiProblem(404, ProblemCode.OidcNotConfigured, 'OpenID Connect sign-in is not configured (OIDC_PROVIDER, OIDC_ISSUER, OIDC_CLIENT_ID)');
    }
    if (provider !== this.provider) {
      throw ApiProblem.notFound('sign-in provider', provider);
    }
  }

  /** Discovery once per process (retried after a failure). */
  private discover(): Promise<client.Configuration> {
    this.configuration ??= client
      .discovery(new URL(this.config.OIDC_ISSUER), this.config.OIDC_CLIENT_ID, this.config.OIDC_CLIENT_SECRET || undefined, undefined, {
        // The id_token's signature is checked against the provider's JWKS too, not only trusted for coming over TLS
        // from the token endpoint (OpenID Connect Core 3.1.3.7 allows skipping it; we do not).
        execute: [client.enableNonRepudiationChecks, ...(this.options.allowHttpIssuer ? [client.allowInsecureRequests] : [])],
        timeout: 10,
      })
      .catch((error: unknown) => {
        this.configuration = null;
        throw error;
      });
    return this.configuration;
  }

  private failed(detail: string, status = 401): ApiProblem {
    return new ApiProblem(status, ProblemCode.OidcSignInFailed, detail);
  }

  /** The provider's authorization URL to send the browser to; sets the state cookie. */
  async start(provider: string, returnTo: string | undefined, response: CookieResponse): Promise<string> {
    this.requireProvider(provider);
    const target = safeReturnTo(returnTo ?? '/', this.publicBaseUrl);
    if (target === null) {
      throw new ApiProblem(400, ProblemCode.InvalidReturnTo, 'returnTo must be a path on this site, such as /console/', [
        { field: 'returnTo', code: 'INVALID_RETURN_TO', message: 'an absolute URL, a //host or a path with backslashes or control characters is not accepted' },
      ]);
    }
    let configuration: client.Configuration;
    try {
      configuration = await this.discover();
    } catch (error) {
      this.logger.warn({ event: 'admin_api.oidc_discovery_failed', error: (error as Error).message });
      throw new ApiProblem(503, ProblemCode.OidcNotConfigured, `the sign-in provider cannot be reached: ${(error as Error).message}`, undefined, { 'Retry-After': '30' });
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await this.users.saveOidcState({ state, provider, codeVerifier, nonce, returnTo: target, expiresAt: new Date(Date.now() + STATE_TTL_MS) });
    response.append('Set-Cookie', serializeCookie(OIDC_STATE_COOKIE, state, { secure: this.sessions.cookieSecure, maxAgeSeconds: STATE_TTL_MS / 1000, sameSite: 'Lax', path: STATE_PATH }));
    return client
      .buildAuthorizationUrl(configuration, {
        redirect_uri: this.redirectUri(),
        scope: this.config.OIDC_SCOPES,
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      })
      .toString();
  }

  /** Completes the sign-in: a session cookie, and the return path to redirect to. */
  async callback(provider: string, query: Record<string, unknown>, rawQuery: string, client_: ClientInfo, response: CookieResponse): Promise<string> {
    this.requireProvider(provider);
    // The state cookie is spent whatever happens next.
    response.append('Set-Cookie', serializeCookie(OIDC_STATE_COOKIE, '', { secure: this.sessions.cookieSecure, maxAgeSeconds: 0, sameSite: 'Lax', path: STATE_PATH }));
    const state = typeof query['state'] === 'string' ? query['state'] : '';
    const cookieState = cookieValue(client_.headers['cookie'], OIDC_STATE_COOKIE);
    if (!state || !tokensEqual(cookieState, state)) {
      throw this.failed('the sign-in state does not match this browser\'s (start the sign-in again from the sign-in page)', 400);
    }
    const pending = await this.users.takeOidcState(state, new Date());
    if (!pending || pending.provider !== provider) {
      throw this.failed('the sign-in state is unknown, used or expired (start the sign-in again)', 400);
    }
    if (typeof query['error'] === 'string') {
      throw this.failed(`the provider refused the sign-in: ${query['error']}${typeof query['error_description'] === 'string' ? `: ${query['error_description'].slice(0, 300)}` : ''}`);
    }
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(await this.discover(), new URL(`${this.redirectUri()}?${rawQuery}`), {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      this.logger.warn({ event: 'admin_api.oidc_sign_in_refused', reason: (error as Error).message, code: (error as { code?: string }).code });
      throw this.failed(`the sign-in could not be completed: ${(error as Error).message}`);
    }
    if (!claims) {
      throw this.failed('the provider returned no id_token');
    }
    const user = await this.match(claims);
    await this.sessions.start(user, `oidc:${provider}`, client_, response);
    await this.users.auditUserEvent(user, 'admin_user.signed_in', userActor(user), { method: `oidc:${provider}`, issuer: claims.iss, subject: claims.sub, clientAddress: client_.ip ?? null });
    return pending.returnTo;
  }

  /** The pre-created, enabled user of these claims; links the identity on its first sign-in. */
  private async match(claims: client.IDToken): Promise<AdminUser> {
    const linked = await this.users.findByOidcSubject(claims.iss, claims.sub);
    let user = linked;
    if (!user) {
      const candidates: string[] = [];
      if (typeof claims['email'] === 'string' && claims['email_verified'] === true) {
        candidates.push(claims['email']);
      }
      if (this.config.OIDC_MATCH_PREFERRED_USERNAME && typeof claims['preferred_username'] === 'string') {
        candidates.push(claims['preferred_username']);
      }
      for (const email of candidates) {
        user ??= await this.users.findByEmailForAuth(email);
      }
      if (user && user.oidcSubject !== null) {
        // The address belongs to a user linked to another identity: someone else's account at the provider.
        this.logger.warn({ event: 'admin_api.oidc_identity_conflict', userId: user.id, issuer: claims.iss });
        user = null;
      }
      if (user) {
        user = await this.users.linkOidc(user.id, claims.iss, claims.sub, userActor(user));
      }
    }
    if (!user || user.disabledAt !== null) {
      throw new ApiProblem(403, ProblemCode.OidcUserUnknown, 'no enabled Mailwarden user matches this identity: an admin must create the user first (same email)');
    }
    return user;
  }
}
