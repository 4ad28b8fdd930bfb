import { Controller, Get, Inject, Ip, Param, Query, Redirect, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { ProblemDto } from '../common/dto/problem.dto';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { RateLimiter } from '../common/rate-limiter';
import { OidcProvidersDto, OidcStartQueryDto } from './dto/oidc.dto';
import { OidcService } from './oidc.service';
import type { ClientInfo, CookieResponse } from './session.service';

const problem = (status: number, description: string) =>
  ApiResponse({ status, description, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

interface RawRequest extends ClientInfo {
  url: string;
}

/** OpenID Connect sign-in (public routes: the browser has no session yet). Each counts against the address's limit. */
@Controller('v1/auth/oidc')
@ApiTags('auth')
@ApiExtraModels(ProblemDto)
export class OidcController {
  private readonly perMinute: number;

  constructor(
    private readonly oidc: OidcService,
    private readonly rateLimiter: RateLimiter,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.perMinute = config.API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE;
  }

  private async limit(ip: string): Promise<void> {
    const decision = await this.rateLimiter.consume(`oidc:${ip}`, Date.now(), this.perMinute);
    if (!decision.allowed) {
      throw new ApiProblem(429, ProblemCode.RateLimited, 'too many sign-in requests from this address: try again later', undefined, { 'Retry-After': String(decision.resetSeconds) });
    }
  }

  @Get('providers')
  @ApiOperation({ operationId: 'listOidcProviders', summary: 'OpenID Connect providers people can sign in with (empty when none is configured)' })
  @ApiOkResponse({ type: OidcProvidersDto })
  providers(): OidcProvidersDto {
    return { items: this.oidc.providers() };
  }

  @Get(':provider/start')
  @Redirect()
  @ApiOperation({ operationId: 'startOidcSignIn', summary: 'Sends the browser to the provider (302), with PKCE (S256), state and nonce' })
  @ApiResponse({ status: 302, description: 'To the provider\'s authorization endpoint' })
  @problem(400, 'INVALID_RETURN_TO: returnTo is not a path on this site')
  @problem(404, 'OIDC_NOT_CONFIGURED, or NOT_FOUND for another provider name')
  @problem(429, 'RATE_LIMITED')
  @problem(503, 'OIDC_NOT_CONFIGURED: the provider cannot be reached')
  async start(
    @Param('provider') provider: string,
    @Query() query: OidcStartQueryDto,
    @Ip() ip: string,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<{ url: string; statusCode: number }> {
    await this.limit(ip);
    return { url: await this.oidc.start(provider, query.returnTo, response), statusCode: 302 };
  }

  @Get(':provider/callback')
  @Redirect()
  @ApiOperation({ operationId: 'completeOidcSignIn', summary: 'The provider sends the browser back here: sets the session cookie and redirects (302) to returnTo' })
  @ApiResponse({ status: 302, description: 'Signed in: to the returnTo of the start' })
  @problem(400, 'OIDC_SIGN_IN_FAILED: state missing, not this browser\'s, used or expired')
  @problem(401, 'OIDC_SIGN_IN_FAILED: the provider refused, or the code, PKCE verifier, id_token or nonce did not check out')
  @problem(403, 'OIDC_USER_UNKNOWN: no enabled user matches the identity (no self-provisioning)')
  @problem(429, 'RATE_LIMITED')
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Ip() ip: string,
    @Req() request: RawRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<{ url: string; statusCode: number }> {
    await this.limit(ip);
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    return { url: await this.oidc.callback(provider, query, rawQuery, { ip, headers: request.headers }, response), statusCode: 302 };
  }
}
