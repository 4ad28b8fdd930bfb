import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiKeyRole, AuditActor } from '@mailwarden/db';

interface PrincipalBase {
  role: ApiKeyRole;
  /** PARTNER_ADMIN: the partner whose accounts they manage. */
  partnerId: string | null;
  /** TENANT_ADMIN and READ_ONLY: their one account. */
  accountId: string | null;
}

/** A caller with an API key (`Authorization: Bearer mw_…`). */
export interface ApiKeyPrincipal extends PrincipalBase {
  kind: 'api-key';
  keyId: string;
  prefix: string;
  name: string;
}

/** A person signed in with a session cookie (password or OpenID Connect). */
export interface UserPrincipal extends PrincipalBase {
  kind: 'user';
  userId: string;
  email: string;
  /** The session the request came with (logout ends it). */
  sessionId: string;
}

/** The caller: an API key or a signed-in person, with the same roles and the same tenant isolation. */
export type Principal = ApiKeyPrincipal | UserPrincipal;

export interface RequestWithPrincipal {
  method: string;
  /** The client address (Express; from X-Forwarded-For only with TRUST_PROXY). */
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) {
    throw new Error('CurrentPrincipal used on a route without ApiKeyGuard');
  }
  return principal;
});

/** The audit log's "who": the key's id and a readable name, or `user:<email>` for a person. */
export function actorOf(principal: Principal): AuditActor {
  if (principal.kind === 'user') {
    return { actor: `user:${principal.email}`, actorKeyId: null };
  }
  return { actor: `api-key:${principal.prefix} (${principal.name})`, actorKeyId: principal.keyId };
}
