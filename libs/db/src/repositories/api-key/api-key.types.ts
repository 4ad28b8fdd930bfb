import type { ApiKey, ApiKeyRole } from '../../generated/prisma/client';

/** An API key row without its hash, as admins may see it. */
export type ApiKeyView = Omit<ApiKey, 'hash'>;

/** Whose keys a revocation may touch: one account's, one partner's (its partner admin keys), or any (operator). */
export type ApiKeyOwner = { accountId: string } | { partnerId: string } | { any: true };

/**
 * A TENANT_ADMIN or READ_ONLY key of `accountId` (`partnerId`, its partner, recorded in the audit entry), or with
 * `accountId: null` a PARTNER_ADMIN key of `partnerId`. `revokes`: a key of the same owner revoked in the same
 * transaction (a rotation).
 */
export interface CreateApiKeyInput {
  accountId: string | null;
  partnerId?: string | null;
  name: string;
  role: ApiKeyRole;
  revokes?: string;
}

/** A created key: its row, its plaintext (shown once, never stored) and the key it rotated out, if any. */
export interface CreatedApiKey {
  key: ApiKeyView;
  plaintext: string;
  revoked: ApiKeyView | null;
}
