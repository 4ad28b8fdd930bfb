import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** The admin API's problem+json answer (apps/admin-api README, "Errors"). */
export interface Problem {
  status: number;
  code: string;
  detail?: string;
  errors?: { field: string; code: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.code);
  }
}

let csrfToken: string | null = null;

/** The session's CSRF token (from sign-in or /v1/auth/me): sent as X-CSRF-Token on every change. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export const csrfHeader = (): Record<string, string> => (csrfToken ? { 'X-CSRF-Token': csrfToken } : {});

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && UNSAFE.has(request.method)) {
      request.headers.set('X-CSRF-Token', csrfToken);
    }
    return request;
  },
};

/**
 * The console's one API client: typed by the admin API's OpenAPI document (src/api/schema.d.ts, generated at build
 * time), same origin, the session cookie sent by the browser. No API key ever reaches the browser.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** The data of an answer, or an ApiError carrying its problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = (result.error ?? {}) as Partial<Problem>;
    throw new ApiError({ status: result.response.status, code: body.code ?? `HTTP_${result.response.status}`, detail: body.detail, errors: body.errors });
  }
  return result.data as T;
}
