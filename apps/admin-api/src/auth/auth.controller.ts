import { Body, Controller, Get, HttpCode, Ip, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiKeyGuard } from '../common/api-key.guard';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { AuthService } from './auth.service';
import { LoginDto } from './dto/login.dto';
import { LoginResultDto, MeDto } from './dto/me.dto';
import { TotpCodeDto, TotpSetupDto } from './dto/totp.dto';
import type { ClientInfo, CookieResponse } from './session.service';

const problem = (status: number, description: string) =>
  ApiResponse({ status, description, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

/**
 * Sign-in for people: POST /v1/auth/login sets the `mw_session` cookie and returns the session's CSRF token; the
 * other routes need that session (and, being POSTs, its X-CSRF-Token).
 */
@Controller('v1/auth')
@ApiTags('auth')
@ApiExtraModels(ProblemDto)
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'login',
    summary: 'Sign in with email and password (and the TOTP code when the user has TOTP on): sets the mw_session cookie (HttpOnly, Secure, SameSite=Strict)',
  })
  @ApiOkResponse({ type: LoginResultDto })
  @problem(400, 'VALIDATION_FAILED')
  @problem(401, 'INVALID_CREDENTIALS (unknown email, wrong password or code, disabled user: one answer), TOTP_REQUIRED (password right, send totpCode)')
  @problem(429, 'RATE_LIMITED: too many failed sign-ins from this address (see Retry-After)')
  login(@Body() dto: LoginDto, @Ip() ip: string, @Req() request: ClientInfo, @Res({ passthrough: true }) response: CookieResponse): Promise<LoginResultDto> {
    return this.auth.login(dto, { ip, headers: request.headers }, response);
  }

  @Get('me')
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'getMe', summary: 'The signed-in person and the session\'s CSRF token' })
  @ApiOkResponse({ type: MeDto })
  @problem(401, 'UNAUTHENTICATED: no live session')
  @problem(403, 'USER_SESSION_REQUIRED: called with an API key')
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.auth.me(principal);
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'logout', summary: 'Ends this session and deletes its cookie' })
  @ApiNoContentResponse()
  @problem(401, 'UNAUTHENTICATED: no live session')
  @problem(403, 'CSRF_TOKEN_INVALID, USER_SESSION_REQUIRED')
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) response: CookieResponse): Promise<void> {
    await this.auth.logout(principal, response);
  }

  @Post('logout-everywhere')
  @HttpCode(204)
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'logoutEverywhere', summary: 'Ends every session of this person (every browser), this one included' })
  @ApiNoContentResponse()
  @problem(401, 'UNAUTHENTICATED: no live session')
  @problem(403, 'CSRF_TOKEN_INVALID, USER_SESSION_REQUIRED')
  async logoutEverywhere(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) response: CookieResponse): Promise<void> {
    await this.auth.logoutEverywhere(principal, response);
  }

  @Post('totp/setup')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'setUpTotp', summary: 'A new TOTP secret for this person (RFC 6238, SHA-1, 6 digits, 30 s); on only after /totp/enable with a code' })
  @ApiOkResponse({ type: TotpSetupDto })
  @problem(409, 'CONFLICT: TOTP is already on')
  @problem(503, 'SECRETS_KEY_NOT_CONFIGURED')
  totpSetup(@CurrentPrincipal() principal: Principal): Promise<TotpSetupDto> {
    return this.auth.totpSetup(principal);
  }

  @Post('totp/enable')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'enableTotp', summary: 'Turns TOTP on with a current code of the secret from /totp/setup' })
  @ApiOkResponse({ type: MeDto })
  @problem(400, 'TOTP_INVALID: wrong or reused code')
  @problem(409, 'CONFLICT: no secret set up, or already on')
  totpEnable(@CurrentPrincipal() principal: Principal, @Body() dto: TotpCodeDto): Promise<MeDto> {
    return this.auth.totpEnable(principal, dto.code);
  }

  @Post('totp/disable')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @ApiCookieAuth('session')
  @ApiOperation({ operationId: 'disableTotp', summary: 'Turns TOTP off (needs a current code)' })
  @ApiOkResponse({ type: MeDto })
  @problem(400, 'TOTP_INVALID: wrong or reused code')
  @problem(409, 'CONFLICT: TOTP is not on')
  totpDisable(@CurrentPrincipal() principal: Principal, @Body() dto: TotpCodeDto): Promise<MeDto> {
    return this.auth.totpDisable(principal, dto.code);
  }
}
