import { ApiError, csrfHeader } from './client';

// TEMPORARY until issue 18a's routes are in the OpenAPI document: plain fetch against its published contract.
async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(method === 'GET' ? {} : csrfHeader()) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) throw new ApiError({ status: response.status, code: String(data.code ?? `HTTP_${response.status}`), detail: data.detail as string | undefined });
  return data;
}

/** The signed-in person (GET /v1/auth/me). */
export interface Me {
  id: string;
  email: string;
  displayName: string | null;
  role: 'PARTNER_ADMIN' | 'TENANT_ADMIN' | 'READ_ONLY';
  partnerId: string | null;
  accountId: string | null;
  locale: string | null;
  totpEnabled: boolean;
  csrfToken: string;
}

export async function fetchMe(): Promise<Me> {
  return (await call('GET', '/v1/auth/me')) as Me;
}

export async function signIn(body: { email: string; password: string; totpCode?: string }): Promise<string> {
  const result = await call('POST', '/v1/auth/login', body);
  return (result as { csrfToken: string }).csrfToken;
}

export async function signOut(everywhere = false): Promise<void> {
  await call('POST', everywhere ? '/v1/auth/logout-everywhere' : '/v1/auth/logout');
}

export async function oidcProviders(): Promise<{ id: string; name: string }[]> {
  try {
    const result = await call('GET', '/v1/auth/oidc/providers');
    const list = Array.isArray(result) ? result : ((result as { items?: unknown[] }).items ?? []);
    return list as { id: string; name: string }[];
  } catch (error) {
    if (error instanceof ApiError && error.problem.status === 404) return [];
    throw error;
  }
}

/** The browser navigates there (302 to the identity provider): a plain link, never fetch. */
export const oidcStartUrl = (provider: string, returnTo: string): string =>
  `/v1/auth/oidc/${encodeURIComponent(provider)}/start?returnTo=${encodeURIComponent(returnTo)}`;
