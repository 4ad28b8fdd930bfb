import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { boundedLabel, counter, histogram, metricsIn } from './metrics';

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

const HTTP_METRICS = {
  requests: counter('mailwarden_http_requests_total', 'HTTP requests by method, route template and status', ['method', 'route', 'status']),
  duration: histogram('mailwarden_http_request_duration_seconds', 'HTTP request latency by method and route template, to the end of the response', ['method', 'route']),
};

type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/**
 * Express middleware counting every request by method, route template and status, with its latency. The route is
 * the template Express matched (`/v1/accounts/:accountId/messages`), never the raw path (ids and query strings would
 * make a series per request); a request no route matched (404, refused before routing) is `unmatched`. Install it
 * first, so that what later middleware refuses is counted too.
 */
export function httpMetricsMiddleware(registry: Registry) {
  const { requests, duration } = metricsIn(registry, HTTP_METRICS);
  return (request: RoutedRequest, response: ServerResponse, next: () => void): void => {
    const started = performance.now();
    // 'close' comes for a finished response and for one the client abandoned alike.
    response.once('close', () => {
      const path = request.route?.path;
      const route = typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : 'unmatched';
      const method = boundedLabel(request.method, METHODS);
      requests.inc({ method, route, status: String(response.statusCode) });
      duration.observe({ method, route }, (performance.now() - started) / 1000);
    });
    next();
  };
}
