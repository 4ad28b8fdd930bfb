import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { problemType } from './problem.filter';

/** Where `/docs`, `/docs-json` and `/metrics` are served (ADMIN_API_OPS_ACCESS); `/health` is always public. */
export type OpsAccess = 'public' | 'api-key' | 'separate';

const OPS_PATH = /^\/(docs(-json)?|metrics)(\/|$|\?)/;
const VIA_OPS_LISTENER = Symbol('mailwarden.viaOpsListener');

type OpsRequest = IncomingMessage & { ip?: string; [VIA_OPS_LISTENER]?: boolean };

function problem(response: ServerResponse, status: number, code: string, detail: string, headers: Record<string, string> = {}): void {
  const titles: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests' };
  response.writeHead(status, { ...headers, 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify({ type: problemType(code), title: titles[status], status, detail, code }));
}

/**
 * Express middleware guarding the operator endpoints:
 * - `api-key`: any valid API key (the same check, limits and throttling as the API);
 * - `separate`: only on the listener `listenOpsEndpoints` opens (bind it to an internal address); the API's own
 *   listener answers 404 for them, and the ops listener answers 404 for everything else but `/health`.
 */
export function opsEndpointsGuard(app: INestApplication, access: OpsAccess) {
  return (request: OpsRequest, response: ServerResponse, next: (error?: unknown) => void): void => {
    const path = request.url ?? '/';
    const isOps = OPS_PATH.test(path);
    if (access === 'separate') {
      const viaOps = request[VIA_OPS_LISTENER] === true;
      if (isOps !== viaOps && !(viaOps && /^\/health(\?|$)/.test(path))) {
        problem(response, 404, 'NOT_FOUND', `${path.split('?')[0]} is not served on this listener`);
        return;
      }
      next();
      return;
    }
    if (access === 'public' || !isOps) {
      next();
      return;
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    app
      .get(ApiKeyAuthenticator)
      .authenticate(match ? match[1]! : null, request.ip ?? 'unknown')
      .then((outcome) => {
        if (outcome.ok) {
          next();
        } else if (outcome.reason === 'too-many-failures') {
          problem(response, 429, 'RATE_LIMITED', 'too many requests without a valid API key from this address', { 'Retry-After': String(outcome.retryAfterSeconds ?? 60) });
        } else {
          problem(response, 401, 'UNAUTHENTICATED', 'a valid API key is required: Authorization: Bearer mw_<prefix>_<secret>', { 'WWW-Authenticate': 'Bearer realm="mailwarden"' });
        }
      }, next);
  };
}

/** Opens the second listener of ADMIN_API_OPS_ACCESS=separate (closed with the app); resolves to its URL. */
export async function listenOpsEndpoints(app: INestApplication, host: string, port: number): Promise<string> {
  const handler = app.getHttpAdapter().getInstance() as (request: IncomingMessage, response: ServerResponse) => void;
  const server: Server = createServer((request, response) => {
    (request as OpsRequest)[VIA_OPS_LISTENER] = true;
    handler(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  (app.getHttpServer() as Server).once('close', () => {
    server.close();
    server.closeAllConnections();
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
