import { api, unwrap } from './client';
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

/** The OpenID Connect providers offered on the sign-in page (none when the operator configured none). */
export type OidcProvider = components['schemas']['OidcProviderDto'];

export async function oidcProviders(): Promise<OidcProvider[]> {
  return unwrap(await api.GET('/v1/auth/oidc/providers')).items;
}

/** The browser navigates there (302 to the identity provider): a plain link, never fetch. */
export const oidcStartUrl = (provider: OidcProvider, returnTo: string): string => `${provider.startUrl}?returnTo=${encodeURIComponent(returnTo)}`;
