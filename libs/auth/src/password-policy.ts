/** Shortest password accepted (NIST SP 800-63B: at least 8; we ask for 12 for admins). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted: scrypt hashes any length, but a megabyte "password" is an attack, not a password. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Why a new password is refused, or null when it is fine. Length only, no composition rules (NIST SP 800-63B
 * §3.1.1.2), plus a refusal of a password that is the user's email address.
 */
export function passwordProblem(password: string, email?: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `a password has at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  if (email && password.trim().toLowerCase() === email.trim().toLowerCase()) {
    return 'a password may not be the email address';
  }
  return null;
}
