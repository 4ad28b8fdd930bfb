import { Inject, Injectable } from '@nestjs/common';
import { hashSessionToken, newCsrfToken, newSessionToken, serializeCookie, SESSION_COOKIE } from '@mailwarden/auth';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { AdminUserRepository, type AdminSession, type AdminUser } from '@mailwarden/db';

export interface CookieResponse {
  append(name: string, value: string): void;
}

export interface ClientInfo {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The idle expiry is written at most this often per session (not on every request). */
const TOUCH_RESOLUTION_MS = 60_000;

/**
 * Sessions of people: an opaque 256-bit token in the `mw_session` cookie (HttpOnly, SameSite=Strict, Path=/,
 * Secure unless SESSION_COOKIE_SECURE=false), stored only as its SHA-256, with an idle expiry (SESSION_IDLE_MINUTES,
 * moved on by use) and an absolute one (SESSION_MAX_HOURS). Each session has its own CSRF token.
 */
@Injectable()
export class SessionService {
  private readonly idleMs: number;
  private readonly maxMs: number;
  private readonly secure: boolean;

  constructor(
    private readonly users: AdminUserRepository,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.idleMs = config.SESSION_IDLE_MINUTES * 60_000;
    this.maxMs = config.SESSION_MAX_HOURS * 3_600_000;
    this.secure = config.SESSION_COOKIE_SECURE;
  }

  get cookieSecure(): boolean {
    return this.secure;
  }

  /** Opens a session for the user and sets its cookie; returns its CSRF token. */
  async start(user: AdminUser, method: string, client: ClientInfo, response: CookieResponse, now = new Date()): Promise<{ session: AdminSession; csrfToken: string }> {
    const token = newSessionToken();
    const csrfToken = newCsrfToken();
    const expiresAt = new Date(now.getTime() + this.maxMs);
    const userAgent = client.headers['user-agent'];
    const session = await this.users.createSession({
      tokenHash: hashSessionToken(token),
      userId: user.id,
      csrfToken,
      method,
      createdAt: now,
      idleExpiresAt: new Date(Math.min(now.getTime() + this.idleMs, expiresAt.getTime())),
      expiresAt,
      clientAddress: client.ip ?? null,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    });
    response.append('Set-Cookie', serializeCookie(SESSION_COOKIE, token, { secure: this.secure, maxAgeSeconds: this.maxMs / 1000 }));
    return { session, csrfToken };
  }

  /** The live session of a token, with its enabled user; its idle expiry moves on. Null otherwise. */
  async resolve(token: string, now = new Date()): Promise<(AdminSession & { user: AdminUser }) | null> {
    const session = await this.users.findLiveSession(hashSessionToken(token), now);
    if (!session || session.user.disabledAt !== null) {
      return null;
    }
    if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_RESOLUTION_MS) {
      await this.users.touchSession(session.id, now, new Date(Math.min(now.getTime() + this.idleMs, session.expiresAt.getTime())));
    }
    return session;
  }

  /** Deletes the browser's cookie. */
  clearCookie(response: CookieResponse): void {
    response.append('Set-Cookie', serializeCookie(SESSION_COOKIE, '', { secure: this.secure, maxAgeSeconds: 0 }));
  }
}
