import { type CanActivate, type ExecutionContext, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CSRF_HEADER, sessionTokenFromCookieHeader, tokensEqual } from '@mailwarden/auth';
import { SessionService } from '../auth/session.service';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { AuthFailureThrottle } from './auth-failure-throttle';
import { ApiProblem, ProblemCode } from './problem-code';
import type { Principal, RequestWithPrincipal } from './principal';
import { RateLimiter } from './rate-limiter';

const PARTNER_ONLY = 'mailwarden:partner-only';

/** Routes only partner admin keys may call (e.g. create an account, partner policies). */
export const PartnerOnly = () => SetMetadata(PARTNER_ONLY, true);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface HttpResponse {
  setHeader(name: string, value: string): void;
}

/**
 * Authenticates `Authorization: Bearer mw_<prefix>_<secret>` (ApiKeyAuthenticator: scrypt, revocable, last use) or,
 * without an Authorization header, a person's `mw_session` cookie (SessionService; unsafe methods must carry the
 * session's `X-CSRF-Token`), enforces the role (READ_ONLY: GET only; partner-only routes), then counts the
 * request against the key's or the person's rate limit. Tenant isolation (404 for other tenants' objects) is
 * TenantAccess's job, per object, the same for keys and people.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger(ApiKeyGuard.name);

  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly sessions: SessionService,
    private readonly failures: AuthFailureThrottle,
    private readonly rateLimiter: RateLimiter,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await this.check(context);
    } catch (error) {
      if (error instanceof ApiProblem) {
        throw error;
      }
      // Redis (rate limit counters) unreachable: refuse rather than serve without a limit, and say why.
      this.logger.warn({ event: 'admin_api.rate_limiter_unavailable', error: (error as Error).message });
      throw new ApiProblem(503, ProblemCode.RateLimiterUnavailable, 'the rate limiter (Redis) cannot be reached; try again shortly', undefined, { 'Retry-After': '5' });
    }
  }

  private async check(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const header = request.headers.authorization;
    const sessionToken = header === undefined ? sessionTokenFromCookieHeader(request.headers.cookie) : null;
    const principal = sessionToken !== null ? await this.sessionPrincipal(request, sessionToken) : await this.apiKeyPrincipal(request, header);
    request.principal = principal;

    const decision = await this.rateLimiter.consume(principal.kind === 'user' ? `user:${principal.userId}` : principal.keyId);
    const response = context.switchToHttp().getResponse<HttpResponse>();
    response.setHeader('RateLimit-Limit', String(decision.limit));
    response.setHeader('RateLimit-Remaining', String(decision.remaining));
    response.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      throw new ApiProblem(429, ProblemCode.RateLimited, `rate limit of ${decision.limit} requests per minute reached for this key`, undefined, {
        'Retry-After': String(decision.resetSeconds),
      });
    }

    const who = principal.kind === 'user' ? 'user' : 'API key';
    if (principal.role === 'READ_ONLY' && !SAFE_METHODS.has(request.method.toUpperCase())) {
      throw new ApiProblem(403, ProblemCode.ReadOnlyKey, `this ${who} is read-only: it may only read (GET)`);
    }
    const partnerOnly = this.reflector.getAllAndOverride<boolean>(PARTNER_ONLY, [context.getHandler(), context.getClass()]);
    if (partnerOnly && principal.role !== 'PARTNER_ADMIN') {
      throw new ApiProblem(403, ProblemCode.RoleNotAllowed, `only partner admins may do this`);
    }
    return true;
  }

  private async apiKeyPrincipal(request: RequestWithPrincipal, header: string | string[] | undefined): Promise<Principal> {
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    // request.ip honours TRUST_PROXY (X-Forwarded-For from a trusted proxy only).
    const outcome = await this.authenticator.authenticate(match ? match[1]! : null, request.ip ?? 'unknown');
    if (!outcome.ok && outcome.reason === 'too-many-failures') {
      throw new ApiProblem(429, ProblemCode.RateLimited, 'too many requests without a valid API key from this address: try again later', undefined, {
        'Retry-After': String(outcome.retryAfterSeconds ?? 60),
      });
    }
    const key = outcome.ok ? outcome.key : null;
    if (!key) {
      throw new ApiProblem(401, ProblemCode.Unauthenticated, 'a valid API key is required: Authorization: Bearer mw_<prefix>_<secret>', undefined, {
        'WWW-Authenticate': 'Bearer realm="mailwarden"',
      });
    }
    return { kind: 'api-key', keyId: key.id, prefix: key.prefix, name: key.name, role: key.role, partnerId: key.partnerId, accountId: key.accountId };
  }

  /** A person's session; unsafe methods must carry its CSRF token (a cross-site page cannot read or send it). */
  private async sessionPrincipal(request: RequestWithPrincipal, token: string): Promise<Principal> {
    const session = await this.sessions.resolve(token);
    if (!session) {
      const retryAfter = await this.failures.countRefusal(request.ip ?? 'unknown', null, Date.now());
      if (retryAfter !== null) {
        throw new ApiProblem(429, ProblemCode.RateLimited, 'too many requests without a valid session from this address: try again later', undefined, { 'Retry-After': String(retryAfter) });
      }
      throw new ApiProblem(401, ProblemCode.Unauthenticated, 'the session has ended (signed out, expired or unknown): sign in again');
    }
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      const given = request.headers[CSRF_HEADER];
      if (!tokensEqual(typeof given === 'string' ? given : null, session.csrfToken)) {
        throw new ApiProblem(403, ProblemCode.CsrfTokenInvalid, 'X-CSRF-Token is missing or is not this session\'s (GET /v1/auth/me returns it)');
      }
    }
    const user = session.user;
    return { kind: 'user', userId: user.id, email: user.email, sessionId: session.id, role: user.role, partnerId: user.partnerId, accountId: user.accountId };
  }
}
