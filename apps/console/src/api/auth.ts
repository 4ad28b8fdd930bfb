import { ApiError, api, unwrap } from './client';
import type { components } from './schema';

/** The signed-in person (GET /v1/auth/me): role, partner or account, locale and the session's CSRF token. */
export type Me = components['schemas']['MeDto'];

export async function fetchMe(): Promise<Me> {
  return unwrap(await api.GET('/v1/auth/me'));
}

export async function signIn(body: { email: string; password: string; totpCode?: string }): Promise<string> {
  return unwrap(await api.POST('/v1/auth/login', { body })).csrfToken;
}

export async function signOut(everywhere = false): Promise<void> {
  unwrap(everywhere ? await api.POST('/v1/auth/logout-everywhere') : await api.POST('/v1/auth/logout'));
}

export interface OidcProvider {
  id: string;
  name: string;
}

/**
 * The OpenID Connect providers offered on the sign-in page. Until the admin API has the OIDC routes (issue 18a's
 * second part) there are none: a 404 means "no providers".
 */
export async function oidcProviders(): Promise<OidcProvider[]> {
  const response = await fetch('/v1/auth/oidc/providers', { credentials: 'same-origin' });
  if (response.status === 404) return [];
  if (!response.ok) throw new ApiError({ status: response.status, code: `HTTP_${response.status}` });
  const body = (await response.json()) as OidcProvider[] | { items?: OidcProvider[] };
  return Array.isArray(body) ? body : (body.items ?? []);
}

/** The browser navigates there (302 to the identity provider): a plain link, never fetch. */
export const oidcStartUrl = (provider: string, returnTo: string): string =>
  `/v1/auth/oidc/${encodeURIComponent(provider)}/start?returnTo=${encodeURIComponent(returnTo)}`;
