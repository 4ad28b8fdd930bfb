import http from 'node:http';
import https from 'node:https';
import { ExportSinkError } from './export-sink';

export interface HttpPostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** PEM CA bundle trusted for https (a private CA); the system's when absent. */
  caPem?: string;
  /** Verify the server certificate (default true). */
  verifyTls?: boolean;
}

/**
 * One POST over node:http(s), whose TLS options (private CA, verification) fetch cannot take without a dispatcher
 * package. Resolves with the status and body; network errors and timeouts become ExportSinkError.
 */
export function httpPost(url: URL, body: Buffer, options: HttpPostOptions): Promise<{ status: number; text: string }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(body.byteLength) },
        timeout: options.timeoutMs,
        ...(url.protocol === 'https:' ? { ca: options.caPem || undefined, rejectUnauthorized: options.verifyTls !== false } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          // Only the start of an answer is kept: a receiver's error page is not worth more.
          if (size < 65_536) {
            chunks.push(chunk);
            size += chunk.byteLength;
          }
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => reject(new ExportSinkError(`${url.host}: ${error.message}`)));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) => reject(new ExportSinkError(`${url.host}: ${error.message}`)));
    request.end(body);
  });
}
