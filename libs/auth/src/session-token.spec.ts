import { cookieValue, hashSessionToken, newSessionToken, serializeCookie, sessionTokenFromCookieHeader, tokensEqual } from './session-token';

describe('session tokens and cookies', () => {
  it('should make 256-bit base64url tokens and store only a SHA-256 of them', () => {
    const token = newSessionToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSessionToken()).not.toBe(token);
    expect(hashSessionToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSessionToken(token)).not.toContain(token);
  });

  it('should find the session cookie among others and refuse a malformed or oversized one', () => {
    const token = newSessionToken();
    expect(sessionTokenFromCookieHeader(`a=1; mw_session=${token}; b=2`)).toBe(token);
    expect(sessionTokenFromCookieHeader(`xmw_session=${token}`)).toBeNull();
    expect(sessionTokenFromCookieHeader('mw_session=../../etc/passwd')).toBeNull();
    expect(sessionTokenFromCookieHeader(`mw_session=${token}x`)).toBeNull();
    expect(sessionTokenFromCookieHeader(`${'a=b; '.repeat(2000)}mw_session=${token}`)).toBeNull();
    expect(sessionTokenFromCookieHeader(undefined)).toBeNull();
    expect(cookieValue(['mw_session=x'], 'mw_session')).toBeNull();
  });

  it('should compare tokens in constant time and refuse missing or differently sized ones', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('ab', 'abc')).toBe(false);
    expect(tokensEqual(undefined, 'abc')).toBe(false);
    expect(tokensEqual(null, 'abc')).toBe(false);
  });

  it('should write HttpOnly SameSite=Strict Path=/ cookies, Secure when asked', () => {
    expect(serializeCookie('mw_session', 'v', { secure: true, maxAgeSeconds: 60 })).toBe('mw_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
    expect(serializeCookie('s', '', { secure: false, maxAgeSeconds: 0, sameSite: 'Lax', path: '/v1/auth/oidc' })).toBe('s=; Path=/v1/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax');
  });
});
