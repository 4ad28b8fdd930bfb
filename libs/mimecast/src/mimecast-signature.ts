import { createHmac, randomUUID } from 'node:crypto';
import type { MimecastV1Credentials } from './mimecast.types';

/**
 * API 1.0 request signature: base64(HMAC-SHA1(base64decode(secretKey), `date:requestId:uri:appKey`)),
 * where `uri` is the request path (e.g. `/api/ttp/url/get-logs`) and `date` the RFC 1123 `x-mc-date` value.
 */
export function mimecastV1Signature(secretKey: string, date: string, requestId: string, uri: string, appKey: string): string {
  return createHmac('sha1', Buffer.from(secretKey, 'base64'))
    .update(`${date}:${requestId}:${uri}:${appKey}`, 'utf8')
    .digest('base64');
}

/** The headers that authenticate one API 1.0 request. */
export function mimecastV1Headers(
  credentials: MimecastV1Credentials,
  uri: string,
  now: Date = new Date(),
  requestId: string = randomUUID(),
): Record<string, string> {
  // Date.prototype.toUTCString() gives the RFC 1123 form Mimecast expects: `Wed, 25 Nov 2026 15:00:00 GMT`.
  const date = now.toUTCString();
  const signature = mimecastV1Signature(credentials.secretKey, date, requestId, uri, credentials.appKey);
  return {
    authorization: `MC ${credentials.accessKey}:${signature}`,
    'x-mc-app-id': credentials.appId,
    'x-mc-date': date,
    'x-mc-req-id': requestId,
  };
}
