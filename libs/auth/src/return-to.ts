/** Longest return path accepted after sign-in. */
const MAX_RETURN_TO = 2048;

/**
 * The path to send the browser to after an OpenID Connect sign-in: only a same-origin absolute path such as
 * `/console/messages?x=1`. Anything else (an absolute or protocol-relative URL, `/\evil`, a scheme, control
 * characters, a path that a browser would resolve to another origin) is refused with null, so the sign-in can never
 * be used as an open redirect.
 */
export function safeReturnTo(value: unknown, origin: string): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) {
    return null;
  }
  // One leading slash followed by something other than / or \ (browsers read both as "another host").
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return null;
  }
  if (/[\u0000-\u001f\u007f\\]/.test(value)) {
    return null;
  }
  let resolved: URL;
  try {
    resolved = new URL(value, origin);
  } catch {
    return null;
  }
  if (resolved.origin !== new URL(origin).origin) {
    return null;
  }
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
