import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'mw_session';
/** Header carrying the session's CSRF token on unsafe requests. */
export const CSRF_HEADER = 'x-csrf-token';

/** A new opaque session token (256 random bits, base64url): only the browser holds it. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a session token: its SHA-256 (hex). A 256-bit random token needs no slow hash. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new CSRF token of a session (192 random bits). */
export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time equality of two tokens (false for a missing or differently sized one). */
export function tokensEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') {
    return false;
  }
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie of a Cookie header (the first of that name), or null; an oversized header counts as none. */
export function cookieValue(header: string | string[] | undefined, name: string): string | null {
  if (typeof header !== 'string' || header.length > 8192) {
    return null;
  }
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      return part.slice(index + 1).trim();
    }
  }
  return null;
}

/** The session token of a Cookie header, or null; a malformed value counts as none. */
export function sessionTokenFromCookieHeader(header: string | string[] | undefined): string | null {
  const value = cookieValue(header, SESSION_COOKIE);
  return value !== null && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
  sameSite?: 'Strict' | 'Lax';
  path?: string;
}

/** A Set-Cookie value: always HttpOnly; SameSite=Strict and Path=/ unless told otherwise. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path ?? '/'}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'HttpOnly', `SameSite=${options.sameSite ?? 'Strict'}`];
  if (options.secure) {
    parts.push('Secure');
  }
  return parts.join('; ');
}
