import { mimecastV1Headers, mimecastV1Signature } from './mimecast-signature';

// Vector computed independently: printf '<date>:<id>:<uri>:<appKey>' | openssl dgst -sha1 -hmac <secret> -binary | base64
const SECRET = Buffer.from('mailwarden-test-secret-key-0123').toString('base64');
const DATE = 'Wed, 25 Nov 2026 15:00:00 GMT';
const REQUEST_ID = '7b0a5c1e-3c1f-4a43-9d7e-2f4c2b8e9a11';

describe('mimecastV1Signature', () => {
  it('should sign date, request id, uri and app key with the decoded secret key', () => {
    expect(mimecastV1Signature(SECRET, DATE, REQUEST_ID, '/api/ttp/url/get-logs', 'app-key-1')).toBe('2NxB3+iWkkM2UXMsD0vFnO5Lx08=');
  });

  it('should give another signature for another uri', () => {
    expect(mimecastV1Signature(SECRET, DATE, REQUEST_ID, '/api/ttp/attachment/get-logs', 'app-key-1')).not.toBe(
      '2NxB3+iWkkM2UXMsD0vFnO5Lx08=',
    );
  });
});

describe('mimecastV1Headers', () => {
  it('should send the MC authorization, app id, RFC 1123 date and request id', () => {
    const headers = mimecastV1Headers(
      { appId: 'app-id-1', appKey: 'app-key-1', accessKey: 'access-1', secretKey: SECRET },
      '/api/ttp/url/get-logs',
      new Date('2026-11-25T15:00:00Z'),
      REQUEST_ID,
    );
    expect(headers).toEqual({
      authorization: 'MC access-1:2NxB3+iWkkM2UXMsD0vFnO5Lx08=',
      'x-mc-app-id': 'app-id-1',
      'x-mc-date': DATE,
      'x-mc-req-id': REQUEST_ID,
    });
  });
});
