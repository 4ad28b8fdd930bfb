import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConsentStateError } from './microsoft365.errors';
import { stripTrailingSlash } from './microsoft365.settings';

const PURPOSE = 'mailwarden:m365-admin-consent:v1';

export interface ConsentState {
  accountId: string;
  /** Who asked for the URL (audit): actor text and API key id. */
  requestedBy: string;
  requestedByKeyId: string | null;
  expiresAt: number;
  /** Random per link: a state is good for one consent (the caller records it as used). */
  nonce: string;
}

/**
 * Signs and checks the `state` of the admin-consent redirect: base64url(JSON).base64url(HMAC-SHA256). The key is
 * derived from SECRETS_KEY for this purpose only, so a state cannot be forged, moved to another account (the account
 * id is inside the signed part) or kept beyond its expiry.
 */
export class ConsentStateSigner {
  private readonly key: Buffer | null;

  constructor(
    secretsKey: string,
    private readonly now: () => number = Date.now,
  ) {
    const raw = Buffer.from(secretsKey, 'base64');
    // Without a real key (an app that never signs, such as the scanner) every sign and verify is refused.
    this.key = raw.length >= 32 ? createHmac('sha256', raw).update(PURPOSE).digest() : null;
  }

  sign(state: Omit<ConsentState, 'expiresAt' | 'nonce'>, ttlMs = 60 * 60 * 1000): string {
    const payload = Buffer.from(
      JSON.stringify({ p: PURPOSE, a: state.accountId, r: state.requestedBy, k: state.requestedByKeyId, e: this.now() + ttlMs, n: randomBytes(12).toString('base64url') }),
    ).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  verify(state: string | undefined): ConsentState {
    if (!state || state.length > 4096) {
      throw new ConsentStateError('the consent answer has no state');
    }
    const [payload, mac, extra] = state.split('.');
    if (!payload || !mac || extra !== undefined) {
      throw new ConsentStateError('the consent state is not one Mailwarden issued');
    }
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new ConsentStateError('the consent state signature does not match (tampered or from another installation)');
    }
    let parsed: { p?: unknown; a?: unknown; r?: unknown; k?: unknown; e?: unknown; n?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw new ConsentStateError('the consent state is not one Mailwarden issued');
    }
    if (parsed.p !== PURPOSE || typeof parsed.a !== 'string' || typeof parsed.e !== 'number' || typeof parsed.r !== 'string' || typeof parsed.n !== 'string') {
      throw new ConsentStateError('the consent state is not one Mailwarden issued');
    }
    if (parsed.e < this.now()) {
      throw new ConsentStateError('the consent link has expired: ask for a new one');
    }
    return { accountId: parsed.a, requestedBy: parsed.r, requestedByKeyId: typeof parsed.k === 'string' ? parsed.k : null, expiresAt: parsed.e, nonce: parsed.n };
  }

  private mac(payload: string): string {
    if (!this.key) {
      throw new Error('no SECRETS_KEY to sign the consent state with');
    }
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/**
 * The admin-consent URL (entra-docs v2-admin-consent.md): `{login}/{tenant|organizations}/adminconsent?client_id&
 * redirect_uri&state`. Microsoft sends the admin back to `redirect_uri` with `tenant`, `admin_consent=True` and `state`,
 * or with `error`, `error_description` and `state`.
 */
export function adminConsentUrl(input: { loginBaseUrl: string; clientId: string; redirectUri: string; state: string; tenant?: string }): string {
  const url = new URL(`${stripTrailingSlash(input.loginBaseUrl)}/${encodeURIComponent(input.tenant ?? 'organizations')}/adminconsent`);
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  return url.toString();
}
