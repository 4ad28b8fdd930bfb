import { Inject, Injectable, Logger } from '@nestjs/common';
import { checkTotp, newTotpSecret, totpUri } from '@mailwarden/auth';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { AdminUserRepository, adminUserView, DUMMY_SECRET_HASH, verifySecret, type AdminUser } from '@mailwarden/db';
import { CredentialsCipher } from '@mailwarden/mimecast';
import { AuthFailureThrottle, MAX_FAILED_VERIFICATIONS_PER_MINUTE } from '../common/auth-failure-throttle';
import { actorOf, type Principal, type UserPrincipal } from '../common/principal';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { RateLimiter } from '../common/rate-limiter';
import type { LoginDto } from './dto/login.dto';
import { type LoginResultDto, type MeDto, toSessionUserDto } from './dto/me.dto';
import type { TotpSetupDto } from './dto/totp.dto';
import { SessionService, type ClientInfo, type CookieResponse } from './session.service';

/** The actor of what a person does to their own sign-in (sign-in, TOTP, sign-out). */
export const userActor = (user: Pick<AdminUser, 'email'>) => ({ actor: `user:${user.email}`, actorKeyId: null });

/**
 * Password sign-in, the signed-in person's view of itself, sign-out and TOTP. Brute force is braked like API
 * keys (AuthFailureThrottle per address and email, the same scrypt cost for unknown users through
 * DUMMY_SECRET_HASH), but a throttled address is refused without checking the password at all: unlike a
 * 192-bit key secret, a password can be guessed.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly cipher: CredentialsCipher | null;
  private readonly attemptsPerMinute: number;

  constructor(
    private readonly users: AdminUserRepository,
    private readonly sessions: SessionService,
    private readonly failures: AuthFailureThrottle,
    private readonly rateLimiter: RateLimiter,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.cipher = config.SECRETS_KEY ? new CredentialsCipher(config.SECRETS_KEY) : null;
    this.attemptsPerMinute = config.API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE;
  }

  /** The scrypt comparison; a member so that tests can see which hash a refusal was checked against. */
  verifyPassword(password: string, storedHash: string): Promise<boolean> {
    return verifySecret(password, storedHash);
  }

  async login(dto: LoginDto, client: ClientInfo, response: CookieResponse, now = Date.now()): Promise<LoginResultDto> {
    const address = client.ip ?? 'unknown';
    const email = dto.email.trim().toLowerCase();
    const pairBucket = `login-failures:${address}:${email}`;
    // Every sign-in costs a scrypt run, right or wrong: at most API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE per address.
    const attempts = await this.rateLimiter.consume(`login:${address}`, now, this.attemptsPerMinute);
    if (!attempts.allowed) {
      throw this.tooMany(attempts.resetSeconds);
    }
    const throttle = await this.failures.throttle(address, pairBucket, now);
    if (throttle) {
      await this.failures.countRefusal(address, throttle, now);
      throw this.tooMany(throttle.resetSeconds);
    }
    const user = await this.users.findByEmailForAuth(email);
    const hash = user?.passwordHash ?? DUMMY_SECRET_HASH;
    const matches = await this.verifyPassword(dto.password, hash);
    if (!user || !user.passwordHash || !matches || user.disabledAt !== null) {
      return this.refuse(address, pairBucket, now, user ? (user.disabledAt ? 'disabled' : 'wrong-password') : 'unknown-user');
    }
    if (user.totpEnabledAt !== null) {
      await this.checkLoginTotp(user, dto.totpCode, address, pairBucket, now);
    }
    const { csrfToken } = await this.sessions.start(user, 'password', client, response, new Date(now));
    await this.users.auditUserEvent(user, 'admin_user.signed_in', userActor(user), { method: 'password', clientAddress: address });
    return { user: toSessionUserDto(adminUserView(user)), csrfToken };
  }

  private async checkLoginTotp(user: AdminUser, code: string | undefined, address: string, pairBucket: string, now: number): Promise<void> {
    if (code === undefined) {
      throw new ApiProblem(401, ProblemCode.TotpRequired, 'this user signs in with a code from an authenticator app: send totpCode');
    }
    // Codes are also counted per user, whatever the address: 10 wrong codes a minute lock the second factor.
    const userBucket = `totp-failures:${user.id}`;
    const perUser = await this.rateLimiter.peek(userBucket, now);
    if (perUser.count >= MAX_FAILED_VERIFICATIONS_PER_MINUTE) {
      throw this.tooMany(perUser.resetSeconds);
    }
    if (!(await this.verifyTotp(user, code, now))) {
      await this.rateLimiter.consume(userBucket, now);
      await this.refuse(address, pairBucket, now, 'wrong-totp');
    }
  }

  /** Checks a code against the user's secret and claims its time step (a code is good once). */
  private async verifyTotp(user: AdminUser, code: string, now: number): Promise<boolean> {
    if (!user.totpSecret || !this.cipher) {
      return false;
    }
    const { secret } = this.cipher.decrypt<{ secret: string }>(user.totpSecret, user.id);
    const result = await checkTotp(secret, code, user.totpLastStep === null ? null : Number(user.totpLastStep), now);
    return result.ok && (await this.users.claimTotpStep(user.id, result.step));
  }

  private async refuse(address: string, pairBucket: string, now: number, reason: string): Promise<never> {
    this.logger.log({ event: 'admin_api.sign_in_refused', reason, clientAddress: address });
    await this.failures.countPairFailure(pairBucket, now);
    const retryAfter = await this.failures.countRefusal(address, null, now);
    if (retryAfter !== null) {
      throw this.tooMany(retryAfter);
    }
    throw new ApiProblem(401, ProblemCode.InvalidCredentials, 'the email, password or code is not right');
  }

  private tooMany(retryAfterSeconds: number): ApiProblem {
    return new ApiProblem(429, ProblemCode.RateLimited, 'too many failed sign-ins from this address: try again later', undefined, { 'Retry-After': String(retryAfterSeconds) });
  }

  /** The principal as a signed-in person, or 403 for an API key. */
  static person(principal: Principal): UserPrincipal {
    if (principal.kind !== 'user') {
      throw new ApiProblem(403, ProblemCode.UserSessionRequired, 'this route is for a signed-in person (session cookie), not an API key');
    }
    return principal;
  }

  private async current(principal: Principal): Promise<{ person: UserPrincipal; user: AdminUser }> {
    const person = AuthService.person(principal);
    const user = await this.users.findById(person.userId);
    if (!user) {
      throw new ApiProblem(401, ProblemCode.Unauthenticated, 'the user no longer exists');
    }
    return { person, user };
  }

  async me(principal: Principal): Promise<MeDto> {
    const { person, user } = await this.current(principal);
    const session = await this.users.findSessionById(person.sessionId);
    return { ...toSessionUserDto(adminUserView(user)), csrfToken: session?.csrfToken ?? '' };
  }

  async logout(principal: Principal, response: CookieResponse): Promise<void> {
    const person = AuthService.person(principal);
    await this.users.deleteSession(person.sessionId);
    this.sessions.clearCookie(response);
    await this.users.auditUserEvent({ id: person.userId, partnerId: person.partnerId, accountId: person.accountId }, 'admin_user.signed_out', actorOf(person));
  }

  async logoutEverywhere(principal: Principal, response: CookieResponse): Promise<{ sessionsEnded: number }> {
    const person = AuthService.person(principal);
    const ended = await this.users.deleteSessionsOfUser(person.userId);
    this.sessions.clearCookie(response);
    await this.users.auditUserEvent({ id: person.userId, partnerId: person.partnerId, accountId: person.accountId }, 'admin_user.signed_out_everywhere', actorOf(person), {
      sessionsEnded: ended,
    });
    return { sessionsEnded: ended };
  }

  // ---- TOTP ----

  private requireCipher(): CredentialsCipher {
    if (!this.cipher) {
      throw new ApiProblem(503, ProblemCode.SecretsKeyNotConfigured, 'SECRETS_KEY not configured: TOTP secrets cannot be stored');
    }
    return this.cipher;
  }

  /** A new secret (not yet on: the user proves the app has it with /enable). Refused while TOTP is on. */
  async totpSetup(principal: Principal): Promise<TotpSetupDto> {
    const { user } = await this.current(principal);
    const cipher = this.requireCipher();
    if (user.totpEnabledAt !== null) {
      throw new ApiProblem(409, ProblemCode.Conflict, 'TOTP is already on: turn it off first (with a current code)');
    }
    const secret = newTotpSecret();
    await this.users.setPendingTotpSecret(user.id, cipher.encrypt({ secret }, user.id));
    return { secret, otpauthUri: totpUri(secret, user.email) };
  }

  async totpEnable(principal: Principal, code: string): Promise<MeDto> {
    const { person, user } = await this.current(principal);
    this.requireCipher();
    if (user.totpEnabledAt !== null || user.totpSecret === null) {
      throw new ApiProblem(409, ProblemCode.Conflict, user.totpEnabledAt ? 'TOTP is already on' : 'no TOTP secret set up: POST /v1/auth/totp/setup first');
    }
    await this.checkOwnCode(user, code);
    await this.users.setTotpEnabled(user.id, true, actorOf(person));
    return this.me(principal);
  }

  async totpDisable(principal: Principal, code: string): Promise<MeDto> {
    const { person, user } = await this.current(principal);
    this.requireCipher();
    if (user.totpEnabledAt === null) {
      throw new ApiProblem(409, ProblemCode.Conflict, 'TOTP is not on');
    }
    await this.checkOwnCode(user, code);
    await this.users.setTotpEnabled(user.id, false, actorOf(person));
    return this.me(principal);
  }

  private async checkOwnCode(user: AdminUser, code: string, now = Date.now()): Promise<void> {
    const bucket = `totp-failures:${user.id}`;
    const perUser = await this.rateLimiter.peek(bucket, now);
    if (perUser.count >= MAX_FAILED_VERIFICATIONS_PER_MINUTE) {
      throw this.tooMany(perUser.resetSeconds);
    }
    if (!(await this.verifyTotp(user, code, now))) {
      await this.rateLimiter.consume(bucket, now);
      throw new ApiProblem(400, ProblemCode.TotpInvalid, 'the code is not right (or was used already): use the current code of the authenticator app');
    }
  }
}
