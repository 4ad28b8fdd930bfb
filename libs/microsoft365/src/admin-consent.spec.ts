import { adminConsentUrl, ConsentStateSigner } from './admin-consent';

const KEY = Buffer.alloc(32, 3).toString('base64');

describe(ConsentStateSigner.name, () => {
  it('should verify its own state and refuse a changed, foreign or expired one', () => {
    let now = 1_000_000;
    const signer = new ConsentStateSigner(KEY, () => now);
    const state = signer.sign({ accountId: 'acc-1', requestedBy: 'api-key:abc (Admin)', requestedByKeyId: 'key-1' }, 60_000);
    expect(signer.verify(state)).toEqual({ accountId: 'acc-1', requestedBy: 'api-key:abc (Admin)', requestedByKeyId: 'key-1', expiresAt: 1_060_000, nonce: expect.stringMatching(/^[\w-]{16}$/) });

    const [payload, mac] = state.split('.');
    const moved = Buffer.from(Buffer.from(payload!, 'base64url').toString().replace('acc-1', 'acc-2')).toString('base64url');
    expect(() => signer.verify(`${moved}.${mac}`)).toThrow(/signature/);
    expect(() => new ConsentStateSigner(Buffer.alloc(32, 4).toString('base64')).verify(state)).toThrow(/signature/);
    expect(() => signer.verify(undefined)).toThrow(/no state/);
    expect(() => signer.verify('a.b.c')).toThrow(/not one Mailwarden issued/);
    now += 61_000;
    expect(() => signer.verify(state)).toThrow(/expired/);
  });

  it('should refuse to sign without a real key', () => {
    expect(() => new ConsentStateSigner('').sign({ accountId: 'a', requestedBy: 'r', requestedByKeyId: null })).toThrow(/SECRETS_KEY/);
  });
});

describe(adminConsentUrl.name, () => {
  it('should build the documented admin-consent URL', () => {
    const url = new URL(adminConsentUrl({ loginBaseUrl: 'https://login.microsoftonline.us/', clientId: 'app', redirectUri: 'https://mw.example/cb', state: 's.t' }));
    expect(`${url.origin}${url.pathname}`).toBe('https://login.microsoftonline.us/organizations/adminconsent');
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'app', redirect_uri: 'https://mw.example/cb', state: 's.t' });
  });
});
