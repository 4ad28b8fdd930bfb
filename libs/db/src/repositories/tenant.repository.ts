import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Account, ApiKey, ApiKeyRole, Partner, Prisma } from '../generated/prisma/client';
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

/** Which accounts a caller may see: a partner's accounts, one account, or every account (the operator's CLI). */
export type AccountVisibility = { partnerId: string } | { accountId: string } | { all: true };

/** Whose keys a revocation may touch: one account's, one partner's (its partner admin keys), or any (operator). */
export type ApiKeyOwner = { accountId: string } | { partnerId: string } | { any: true };

/** The account's journal ingest settings; absent fields are left as they are. */
export interface JournalSettingsChange {
  /** CIDR ranges or addresses allowed to send journal copies, normalized; empty: any. */
  sourceIps?: string[];
  requireTls?: boolean;
}

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

  /** Creates a partner (the operator's CLI), audited with the partner's id. */
  createPartner(name: string, actor: AuditActor): Promise<Partner> {
    return this.prisma.$transaction(async (tx) => {
      const partner = await tx.partner.create({ data: { name } });
      await this.audit.append(
        { ...actor, partnerId: partner.id, action: 'partner.created', objectType: 'partner', objectId: partner.id, after: auditSnapshot(partner) },
        tx,
      );
      return partner;
    });
  }

  findPartner(id: string): Promise<Partner | null> {
    return this.prisma.partner.findUnique({ where: { id } });
  }

  /** Sets the account's journal source ranges and/or require-TLS flag, with its audit entry; null when not found. */
  setJournalSettings(accountId: string, change: JournalSettingsChange, actor: AuditActor): Promise<Account | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.account.findUnique({ where: { id: accountId } });
      if (!before) {
        return null;
      }
      const after = await tx.account.update({
        where: { id: accountId },
        data: { journalSourceIps: change.sourceIps ?? before.journalSourceIps, journalRequireTls: change.requireTls ?? before.journalRequireTls },
      });
      const pick = (account: Account) => ({ journalSourceIps: account.journalSourceIps, journalRequireTls: account.journalRequireTls });
      await this.audit.append(
        { ...actor, accountId, partnerId: before.partnerId, action: 'account.journal_settings_set', objectType: 'account', objectId: accountId, before: pick(before), after: pick(after) },
        tx,
      );
      return after;
    });
  }

  findAccount(id: string): Promise<Account | null> {
    return this.prisma.account.findUnique({ where: { id } });
  }

  listAccounts(visibility: AccountVisibility, page: { after?: CreatedAtKey; limit: number }): Promise<Account[]> {
    const scope = 'all' in visibility ? {} : 'partnerId' in visibility ? { partnerId: visibility.partnerId } : { id: visibility.accountId };
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
   * Creates a key (`mw_<prefix>_<secret>`, the secret stored only as its scrypt hash) with its audit entry in one
   * transaction: a TENANT_ADMIN or READ_ONLY key of `accountId` (`partnerId`, its partner, for the audit), or with
   * `accountId: null` a PARTNER_ADMIN key of `partnerId`. `revokes` (a key of the same owner) is revoked in the same
   * transaction: a rotation. The plaintext is returned once and never stored.
   */
  async createApiKey(
    input: { accountId: string | null; partnerId: string | null; name: string; role: ApiKeyRole; revokes?: string },
    actor: AuditActor,
  ): Promise<{ key: ApiKeyView; plaintext: string; revoked: ApiKeyView | null }> {
    const isPartnerKey = input.accountId === null;
    if (isPartnerKey !== (input.role === 'PARTNER_ADMIN') || (isPartnerKey && !input.partnerId)) {
      throw new Error('a PARTNER_ADMIN key belongs to a partner (no account); other roles belong to an account');
    }
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const secret = randomBytes(24).toString('base64url');
    const hash = await hashApiKeySecret(secret);
    const { key, revoked } = await this.prisma.$transaction(async (tx) => {
      const created = await tx.apiKey.create({
        data: { prefix, hash, name: input.name, role: input.role, accountId: input.accountId, partnerId: isPartnerKey ? input.partnerId : null },
        select: API_KEY_VIEW,
      });
      await this.audit.append(
        { ...actor, accountId: input.accountId, partnerId: input.partnerId, action: 'api_key.created', objectType: 'api_key', objectId: created.id, after: auditSnapshot(created) },
        tx,
      );
      const owner: ApiKeyOwner = isPartnerKey ? { partnerId: input.partnerId! } : { accountId: input.accountId! };
      return { key: created, revoked: input.revokes ? await this.revokeIn(tx, owner, input.revokes, actor) : null };
    });
    return { key, plaintext: `mw_${prefix}_${secret}`, revoked };
  }

  /** A partner admin key of the partner (not its accounts' keys), without its hash. */
  findPartnerApiKey(partnerId: string, keyId: string): Promise<ApiKeyView | null> {
    return UUID.test(keyId) ? this.prisma.apiKey.findFirst({ where: { id: keyId, partnerId, accountId: null }, select: API_KEY_VIEW }) : Promise.resolve(null);
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

  /**
   * Revokes a key of the owner (an account's, a partner's own partner admin keys, or any for the operator); null
   * when the owner has no such key. Revoking a revoked key changes nothing and writes no entry.
   */
  revokeApiKey(owner: ApiKeyOwner, keyId: string, actor: AuditActor): Promise<ApiKeyView | null> {
    return this.prisma.$transaction((tx) => this.revokeIn(tx, owner, keyId, actor));
  }

  private async revokeIn(tx: Prisma.TransactionClient, owner: ApiKeyOwner, keyId: string, actor: AuditActor): Promise<ApiKeyView | null> {
    const scope = 'any' in owner ? {} : 'accountId' in owner ? { accountId: owner.accountId } : { partnerId: owner.partnerId, accountId: null };
    const before = UUID.test(keyId) ? await tx.apiKey.findFirst({ where: { id: keyId, ...scope }, select: API_KEY_VIEW }) : null;
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
