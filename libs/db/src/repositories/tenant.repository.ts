import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Account, ApiKey, ApiKeyRole } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import { AuditRepository } from './audit.repository';
import { newJournalToken } from './account.repository';
import { hashApiKeySecret } from './api-key.repository';
import { auditSnapshot, type AuditActor } from './admin-audit';

/** Keyset position of a list ordered newest first. */
export interface CreatedAtKey {
  createdAt: Date;
  id: string;
}

/** Which accounts a caller may see: a partner's accounts, or one account. */
export type AccountVisibility = { partnerId: string } | { accountId: string };

/** An API key row without its hash, as admins may see it. */
export type ApiKeyView = Omit<ApiKey, 'hash'>;

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

/** Newest first, ties broken by id (descending). */
function newestFirstAfter(after: CreatedAtKey | undefined): object {
  return after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {};
}

/**
 * Accounts and their API keys for the admin API. Every write commits together with its audit entry.
 */
@Injectable()
export class TenantRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  createAccount(input: { name: string; partnerId: string | null; monitorOnly: boolean }, actor: AuditActor): Promise<Account> {
    return this.prisma.$transaction(async (tx) => {
      const account = await tx.account.create({
        data: { name: input.name, partnerId: input.partnerId, monitorOnly: input.monitorOnly, journalToken: newJournalToken() },
      });
      await this.audit.append(
        { ...actor, accountId: account.id, partnerId: account.partnerId, action: 'account.created', objectType: 'account', objectId: account.id, after: auditSnapshot(account) },
        tx,
      );
      return account;
    });
  }

  findAccount(id: string): Promise<Account | null> {
    return this.prisma.account.findUnique({ where: { id } });
  }

  listAccounts(visibility: AccountVisibility, page: { after?: CreatedAtKey; limit: number }): Promise<Account[]> {
    const scope = 'partnerId' in visibility ? { partnerId: visibility.partnerId } : { id: visibility.accountId };
    return this.prisma.account.findMany({
      where: { AND: [scope, newestFirstAfter(page.after)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }

  listApiKeys(accountId: string, page: { after?: CreatedAtKey; limit: number }): Promise<ApiKeyView[]> {
    return this.prisma.apiKey.findMany({
      where: { AND: [{ accountId }, newestFirstAfter(page.after)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
      select: API_KEY_VIEW,
    });
  }

  findApiKey(accountId: string, keyId: string): Promise<ApiKeyView | null> {
    return this.prisma.apiKey.findFirst({ where: { id: keyId, accountId }, select: API_KEY_VIEW });
  }

  /**
   * Creates a key of one account (`mw_<prefix>_<secret>`, the secret stored only as its scrypt hash) with its audit
   * entry in one transaction. The plaintext is returned once and never stored.
   */
  async createApiKey(input: { accountId: string; partnerId: string | null; name: string; role: ApiKeyRole }, actor: AuditActor): Promise<{ key: ApiKeyView; plaintext: string }> {
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const secret = randomBytes(24).toString('base64url');
    const hash = await hashApiKeySecret(secret);
    const key = await this.prisma.$transaction(async (tx) => {
      const created = await tx.apiKey.create({
        data: { prefix, hash, name: input.name, role: input.role, accountId: input.accountId, partnerId: null },
        select: API_KEY_VIEW,
      });
      await this.audit.append(
        { ...actor, accountId: input.accountId, partnerId: input.partnerId, action: 'api_key.created', objectType: 'api_key', objectId: created.id, after: auditSnapshot(created) },
        tx,
      );
      return created;
    });
    return { key, plaintext: `mw_${prefix}_${secret}` };
  }

  /** The key row (with its hash) for authentication, by the public prefix of `mw_<prefix>_<secret>`. */
  findApiKeyForAuth(prefix: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { prefix } });
  }

  /** Records a use of the key; at most one write per key and `resolutionMs`, so a busy key does not write per request. */
  async recordApiKeyUse(id: string, at: Date, resolutionMs = 60_000): Promise<void> {
    await this.prisma.apiKey.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at.getTime() - resolutionMs) } }] },
      data: { lastUsedAt: at },
    });
  }

  /** Revokes a key of the account; revoking a revoked key changes nothing and writes no entry. */
  revokeApiKey(accountId: string, keyId: string, actor: AuditActor): Promise<ApiKeyView | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.apiKey.findFirst({ where: { id: keyId, accountId }, select: API_KEY_VIEW });
      if (!before || before.revokedAt) {
        return before;
      }
      const after = await tx.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() }, select: API_KEY_VIEW });
      await this.audit.append(
        { ...actor, accountId, action: 'api_key.revoked', objectType: 'api_key', objectId: keyId, before: auditSnapshot(before), after: auditSnapshot(after) },
        tx,
      );
      return after;
    });
  }
}
