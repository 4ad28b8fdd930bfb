import { generate, generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;

/** A new TOTP secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI an authenticator app reads (as a QR code or pasted). */
export function totpUri(secret: string, email: string, issuer = 'Mailwarden'): string {
  return generateURI({ issuer, label: email, secret, period: TOTP_PERIOD_SECONDS });
}

/** The code of a time (tests, the CLI's checks). */
export function totpCode(secret: string, nowMs = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS });
}

/**
 * Checks a 6-digit code against the secret, one step either side of now (clock drift), and only for a step after
 * `afterStep` (the last one used): a code is good once. Returns the step matched, for the caller to record.
 */
export async function checkTotp(secret: string, code: string, afterStep: number | null, nowMs = Date.now()): Promise<{ ok: true; step: number } | { ok: false }> {
  if (!/^\d{6}$/.test(code)) {
    return { ok: false };
  }
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? { ok: true, step: result.timeStep } : { ok: false };
}
