import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** A person in the fake directory who can sign in with OpenID Connect. */
export interface FakeIdentityUser {
  /** Object id (`oid`). */
  oid: string;
  /** `sub`: Microsoft's is pairwise per app; here one per user and fake. */
  sub: string;
  /** `preferred_username`: the UPN. */
  preferredUsername: string;
  name: string;
  /** Optional `email` claim (Microsoft sends it only when the user has a mail address, unverified). */
  email?: string;
  /** More claims to put in the id_token (e.g. email_verified of a generic provider). */
  extraClaims?: Record<string, unknown>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  nonce: string | null;
  scope: string;
  user: FakeIdentityUser;
  expiresAt: number;
  redeemed: boolean;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One refusal of the token endpoint, for assertions (which check failed). */
export interface IdentityRefusal {
  error: string;
  code: number;
  description: string;
}

const loginError = (status: number, error: string, description: string, code: number): Reply => ({
  status,
  body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() },
});

/**
 * The Microsoft identity platform's OpenID Connect sign-in (v2.0 endpoints, ../shared/m365 and Microsoft's
 * "OpenID Connect on the Microsoft identity platform"), served by FakeMicrosoft365 on the same host:
 *
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration` (issuer `<base>/{tenant}/v2.0`);
 * - `GET /{tenant}/discovery/v2.0/keys` (JWKS, one RSA key);
 * - `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page, answered at once as if `signInAs` signed in (302 to
 *   the registered redirect URI with `code` and `state`, or `error=access_denied` when no one is set);
 * - `POST /{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code`: client secret (post or basic), the same
 *   redirect_uri, the code once (AADSTS54005 on reuse), and PKCE: the S256 of code_verifier must be the
 *   code_challenge (AADSTS501481). The id_token is RS256-signed with the JWKS key: iss, aud, sub, oid, tid, nonce,
 *   preferred_username, name, (email), iat, nbf, exp, ver 2.0.
 *
 * Test hooks: `signInAs`, `idTokenOverrides` (e.g. a wrong nonce), `signWithForeignKey`, and `refusals`.
 */
export class FakeMicrosoftIdentity {
  readonly tenantId = randomUUID();
  readonly clientId = randomUUID();
  readonly clientSecret = `fake-oidc-secret-${randomBytes(12).toString('base64url')}`;
  readonly redirectUris = new Set<string>();
  /** Who signs in at the next authorize request (stays set until changed). */
  signInAs: FakeIdentityUser | null = null;
  /** Claims replacing the real ones in the next id_tokens (attacks: another nonce, audience, issuer). */
  idTokenOverrides: Record<string, unknown> = {};
  /** Sign id_tokens with a key that is not in the JWKS (a forged token). */
  signWithForeignKey = false;
  /** Every refusal of the token endpoint, in order. */
  readonly refusals: IdentityRefusal[] = [];
  /** Every authorize request's query, in order. */
  readonly authorizeRequests: URLSearchParams[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private readonly privateKey: KeyObject;
  private readonly foreignKey: KeyObject;
  private readonly kid = randomBytes(8).toString('hex');

  constructor(private readonly baseUrl: () => string) {
    this.privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  get issuer(): string {
    return `${this.baseUrl()}/${this.tenantId}/v2.0`;
  }

  /** A person of the fake directory. */
  newUser(preferredUsername: string, extra: Partial<Omit<FakeIdentityUser, 'preferredUsername'>> = {}): FakeIdentityUser {
    return { oid: randomUUID(), sub: randomBytes(32).toString('base64url').slice(0, 43), preferredUsername, name: preferredUsername.split('@')[0]!, ...extra };
  }

  /** The fake's answer to a request on its paths, or null (not one of them: FakeMicrosoft365 answers). */
  handle(method: string, url: URL, form: Record<string, string> | null, headers: Record<string, string | undefined>): Reply | null {
    const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    if (!match || match[1] !== this.tenantId) {
      return null;
    }
    const endpoint = match[2]!;
    if (endpoint === 'oauth2/v2.0/token') {
      // Client credentials (Graph) stay FakeMicrosoft365's.
      return method === 'POST' && form?.grant_type === 'authorization_code' ? this.token(form, headers) : null;
    }
    if (method !== 'GET') {
      return { status: 405 };
    }
    if (endpoint === 'v2.0/.well-known/openid-configuration') {
      return { status: 200, body: this.discovery() };
    }
    if (endpoint === 'discovery/v2.0/keys') {
      const jwk = createPublicKey(this.privateKey).export({ format: 'jwk' });
      return { status: 200, body: { keys: [{ ...jwk, kid: this.kid, use: 'sig', alg: 'RS256', issuer: this.issuer }] } };
    }
    return this.authorize(url.searchParams);
  }

  private discovery(): Record<string, unknown> {
    const base = `${this.baseUrl()}/${this.tenantId}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      code_challenge_methods_supported: ['plain', 'S256'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'oid', 'email'],
      tenant_region_scope: 'EU',
    };
  }

  private authorize(query: URLSearchParams): Reply {
    this.authorizeRequests.push(query);
    const redirectUri = query.get('redirect_uri');
    if (query.get('client_id') !== this.clientId) {
      return { status: 400, headers: { 'content-type': 'text/html' }, body: `AADSTS700016: Application with identifier '${query.get('client_id')}' was not found` };
    }
    if (!redirectUri || !this.redirectUris.has(redirectUri)) {
      return { status: 400, headers: { 'content-type': 'text/html' }, body: 'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application' };
    }
    const target = new URL(redirectUri);
    const state = query.get('state');
    const method = query.get('code_challenge_method');
    if (query.get('response_type') !== 'code' || !(query.get('scope') ?? '').split(' ').includes('openid') || (method !== null && method !== 'S256' && method !== 'plain')) {
      target.searchParams.set('error', 'invalid_request');
      target.searchParams.set('error_description', 'AADSTS900144: The request is not a valid OpenID Connect authorization code request.');
    } else if (!this.signInAs) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    } else {
      const code = `0.A${randomBytes(48).toString('base64url')}`;
      this.codes.set(code, {
        clientId: this.clientId,
        redirectUri,
        codeChallenge: query.get('code_challenge'),
        codeChallengeMethod: method ?? (query.get('code_challenge') ? 'plain' : null),
        nonce: query.get('nonce'),
        scope: query.get('scope') ?? '',
        user: this.signInAs,
        expiresAt: Date.now() + 10 * 60_000,
        redeemed: false,
      });
      target.searchParams.set('code', code);
      target.searchParams.set('session_state', randomUUID());
    }
    if (state !== null) {
      target.searchParams.set('state', state);
    }
    return { status: 302, headers: { location: target.toString() } };
  }

  private refuse(status: number, error: string, description: string, code: number): Reply {
    this.refusals.push({ error, code, description });
    return loginError(status, error, description, code);
  }

  private token(form: Record<string, string>, headers: Record<string, string | undefined>): Reply {
    let clientId = form.client_id;
    let clientSecret = form.client_secret;
    const basic = /^Basic (.+)$/i.exec(headers.authorization ?? '')?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part));
      clientId = id;
      clientSecret = secret;
    }
    if (clientId !== this.clientId) {
      return this.refuse(400, 'unauthorized_client', `Application with identifier '${clientId}' was not found in the directory.`, 700016);
    }
    if (clientSecret !== this.clientSecret) {
      return this.refuse(401, 'invalid_client', 'Invalid client secret provided.', 7000215);
    }
    const issued = form.code ? this.codes.get(form.code) : undefined;
    if (!issued || issued.expiresAt < Date.now()) {
      return this.refuse(400, 'invalid_grant', 'The provided authorization code or refresh token has expired or is invalid.', 70008);
    }
    if (issued.redeemed) {
      return this.refuse(400, 'invalid_grant', 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.', 54005);
    }
    issued.redeemed = true;
    if (form.redirect_uri !== issued.redirectUri) {
      return this.refuse(400, 'invalid_grant', 'The reply URL specified in the request does not match the reply URL configured for the authorization code.', 500112);
    }
    if (issued.codeChallenge !== null) {
      const verifier = form.code_verifier ?? '';
      const computed = issued.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (!verifier || computed !== issued.codeChallenge) {
        return this.refuse(400, 'invalid_grant', 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.', 501481);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const user = issued.user;
    const claims = {
      ver: '2.0',
      iss: this.issuer,
      sub: user.sub,
      aud: this.clientId,
      exp: now + 3600,
      iat: now,
      nbf: now,
      name: user.name,
      preferred_username: user.preferredUsername,
      oid: user.oid,
      tid: this.tenantId,
      ...(issued.nonce !== null ? { nonce: issued.nonce } : {}),
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...user.extraClaims,
      ...this.idTokenOverrides,
    };
    const idToken = jwt.sign(claims, this.signWithForeignKey ? this.foreignKey : this.privateKey, { algorithm: 'RS256', keyid: this.kid });
    return {
      status: 200,
      body: { token_type: 'Bearer', scope: issued.scope, expires_in: 3599, ext_expires_in: 3599, access_token: `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`, id_token: idToken },
    };
  }
}
