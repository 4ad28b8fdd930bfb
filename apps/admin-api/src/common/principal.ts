import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiKeyRole, AuditActor } from '@mailwarden/db';

/** The caller, from its API key. */
export interface Principal {
  keyId: string;
  prefix: string;
  name: string;
  role: ApiKeyRole;
  /** PARTNER_ADMIN keys: the partner whose accounts they manage. */
  partnerId: string | null;
  /** TENANT_ADMIN and READ_ONLY keys: their one account. */
  accountId: string | null;
}

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

/** The audit log's "who": the key's id and a readable name. */
export function actorOf(principal: Principal): AuditActor {
  return { actor: `api-key:${principal.prefix} (${principal.name})`, actorKeyId: principal.keyId };
}
