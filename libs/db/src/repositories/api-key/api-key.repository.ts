import { Injectable } from '@nestjs/common';
import type { ApiKey, Prisma } from '../../generated/prisma/client';
import { newestFirstAfter } from '../../pagination';
import { PrismaService } from '../../prisma.service';
import type { CreatedAtKey } from '../../types/page.types';
import { isUuid } from '../../uuid';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';
import { hashApiKeySecret, newApiKey } from './api-key.secret';
import type { ApiKeyOwner, ApiKeyView, CreateApiKeyInput, CreatedApiKey } from './api-key.types';

const API_KEY_VIEW = {
  id: true,
  prefix: true,
  name: true,
  role: true,
  partnerId: true,
  accountId: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

/**
 * API keys (`mw_<prefix>_<secret>`, the secret stored only as its scrypt hash): creation, rotation and revocation,
 * each with its audit entry in one transaction, the admins' lists, and the admin API authenticator's lookup by
 * prefix (apps/admin-api `ApiKeyAuthenticator`).
 */
@Injectable()
export class ApiKeyRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  /** Creates a key (see `CreateApiKeyInput`); the plaintext is returned once and never stored. */
  async create(input: CreateApiKeyInput, actor: AuditActor): Promise<CreatedApiKey> {
    const isPartnerKey = input.accountId === null;
    const partnerId = input.partnerId ?? null;
    if (isPartnerKey !== (input.role === 'PARTNER_ADMIN') || (isPartnerKey && !partnerId)) {
      throw new Error('a PARTNER_ADMIN key belongs to a partner (no account); other roles belong to an account');
    }
    const { prefix, secret, plaintext } = newApiKey();
    const hash = await hashApiKeySecret(secret);
    const { key, revoked } = await this.prisma.$transaction(async (tx) => {
      const created = await tx.apiKey.create({
        data: { prefix, hash, name: input.name, role: input.role, accountId: input.accountId, partnerId: isPartnerKey ? partnerId : null },
        select: API_KEY_VIEW,
      });
      await this.audit.append(
        { ...actor, accountId: input.accountId, partnerId, action: 'api_key.created', objectType: 'api_key', objectId: created.id, after: auditSnapshot(created) },
        tx,
      );
      const owner: ApiKeyOwner = isPartnerKey ? { partnerId: partnerId! } : { accountId: input.accountId! };
      return { key: created, revoked: input.revokes ? await this.revokeIn(tx, owner, input.revokes, actor) : null };
    });
    return { key, plaintext, revoked };
  }

  list(accountId: string, page: { after?: CreatedAtKey; limit: number }): Promise<ApiKeyView[]> {
    return this.prisma.apiKey.findMany({
      where: { AND: [{ accountId }, newestFirstAfter(page.after)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
      select: API_KEY_VIEW,
    });
  }

  find(accountId: string, keyId: string): Promise<ApiKeyView | null> {
    return this.prisma.apiKey.findFirst({ where: { id: keyId, accountId }, select: API_KEY_VIEW });
  }

  /** A partner admin key of the partner (not its accounts' keys), without its hash. */
  findPartnerKey(partnerId: string, keyId: string): Promise<ApiKeyView | null> {
    return isUuid(keyId) ? this.prisma.apiKey.findFirst({ where: { id: keyId, partnerId, accountId: null }, select: API_KEY_VIEW }) : Promise.resolve(null);
  }

  /** The key row (with its hash) for authentication, by the public prefix of `mw_<prefix>_<secret>`. */
  findForAuth(prefix: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { prefix } });
  }

  /** Records a use of the key; at most one write per key and `resolutionMs`, so a busy key does not write per request. */
  async recordUse(id: string, at: Date, resolutionMs = 60_000): Promise<void> {
    await this.prisma.apiKey.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at.getTime() - resolutionMs) } }] },
      data: { lastUsedAt: at },
    });
  }

  /**
   * Revokes a key of the owner (an account's, a partner's own partner admin keys, or any for the operator); null
   * when the owner has no such key. Revoking a revoked key changes nothing and writes no entry.
   */
  revoke(owner: ApiKeyOwner, keyId: string, actor: AuditActor): Promise<ApiKeyView | null> {
    return this.prisma.$transaction((tx) => this.revokeIn(tx, owner, keyId, actor));
  }

  private async revokeIn(tx: Prisma.TransactionClient, owner: ApiKeyOwner, keyId: string, actor: AuditActor): Promise<ApiKeyView | null> {
    const scope = 'any' in owner ? {} : 'accountId' in owner ? { accountId: owner.accountId } : { partnerId: owner.partnerId, accountId: null };
    const before = isUuid(keyId) ? await tx.apiKey.findFirst({ where: { id: keyId, ...scope }, select: API_KEY_VIEW }) : null;
    if (!before || before.revokedAt) {
      return before;
    }
    const after = await tx.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() }, select: API_KEY_VIEW });
    const account = before.accountId ? await tx.account.findUnique({ where: { id: before.accountId }, select: { partnerId: true } }) : null;
    await this.audit.append(
      {
        ...actor,
        accountId: before.accountId,
        partnerId: before.partnerId ?? account?.partnerId ?? null,
        action: 'api_key.revoked',
        objectType: 'api_key',
        objectId: keyId,
        before: auditSnapshot(before),
        after: auditSnapshot(after),
      },
      tx,
    );
    return after;
  }
}
