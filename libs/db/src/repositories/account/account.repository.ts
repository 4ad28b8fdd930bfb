import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Account, Domain, Partner, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { newestFirstAfter } from '../../pagination';
import type { CreatedAtKey } from '../../types/page.types';
import { isUuid } from '../../uuid';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { Db } from '../message/raw-message-store';
import type { AuditActor } from '../audit/audit.types';
import type { AccountVisibility, CreateAccountInput, JournalSettingsChange } from './account.types';

export type AccountTx = Prisma.TransactionClient;

/** A journal token: the local part of the account's journal address. Unguessable, lower-case, DNS/SMTP-safe. */
export function newJournalToken(): string {
  return `j-${randomBytes(12).toString('hex')}`;
}

/**
 * Accounts and their partners: creation and settings (each write commits with its audit entry), the journal
 * ingest's lookup by token, and the account row lock that serializes mode changes (libs/accounts).
 */
@Injectable()
export class AccountRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  create(input: CreateAccountInput, actor: AuditActor): Promise<Account> {
    return this.prisma.$transaction(async (tx) => {
      const account = await tx.account.create({
        data: { name: input.name, partnerId: input.partnerId ?? null, monitorOnly: input.monitorOnly ?? true, journalToken: newJournalToken() },
      });
      await this.audit.append(
        { ...actor, accountId: account.id, partnerId: account.partnerId, action: 'account.created', objectType: 'account', objectId: account.id, after: auditSnapshot(account) },
        tx,
      );
      return account;
    });
  }

  find(id: string): Promise<Account | null> {
    return isUuid(id) ? this.prisma.account.findUnique({ where: { id } }) : Promise.resolve(null);
  }

  /** The journal ingest's lookup: the account whose journal address has this local part, with its domains. */
  findByJournalToken(token: string): Promise<(Account & { domains: Domain[] }) | null> {
    return this.prisma.account.findUnique({ where: { journalToken: token.toLowerCase() }, include: { domains: true } });
  }

  /** The account with its domains by name (the mode migrations read it inside their account lock: `db` = its transaction). */
  findWithDomains(accountId: string, db: Db = this.prisma): Promise<(Account & { domains: Domain[] }) | null> {
    return db.account.findUnique({ where: { id: accountId }, include: { domains: { orderBy: { name: 'asc' } } } });
  }

  /** Newest first (see `newestFirstAfter`). */
  list(visibility: AccountVisibility, page: { after?: CreatedAtKey; limit: number }): Promise<Account[]> {
    const scope = 'all' in visibility ? {} : 'partnerId' in visibility ? { partnerId: visibility.partnerId } : { id: visibility.accountId };
    return this.prisma.account.findMany({
      where: { AND: [scope, newestFirstAfter(page.after)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
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

  /**
   * Runs `work` in a transaction that first locks the account row (FOR UPDATE), so mode changes of one account
   * run one at a time; the database triggers lock the same row, so a writer that bypasses this still serializes.
   * Returns null when the account does not exist.
   */
  async withAccountLock<T>(accountId: string, work: (tx: AccountTx, account: Account) => Promise<T>): Promise<T | null> {
    if (!isUuid(accountId)) {
      return null;
    }
    return this.prisma.$transaction(async (tx) => {
      const account = await this.lockAccountRow(tx, accountId);
      return account ? work(tx, account) : null;
    });
  }

  /** Locks the account row (FOR UPDATE) inside a transaction the caller already holds (the triggers' lock order). */
  async lockAccountRow(tx: AccountTx, accountId: string): Promise<Account | null> {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "account" WHERE "id" = ${accountId}::uuid FOR UPDATE`;
    return locked.length === 0 ? null : tx.account.findUniqueOrThrow({ where: { id: accountId } });
  }

  /** Runs `work` inside a savepoint: a refused statement rolls back to it and leaves the transaction usable. */
  async inSavepoint<T>(tx: AccountTx, work: () => Promise<T>): Promise<T> {
    await tx.$executeRawUnsafe('SAVEPOINT account_mode_change');
    try {
      const result = await work();
      await tx.$executeRawUnsafe('RELEASE SAVEPOINT account_mode_change');
      return result;
    } catch (error) {
      await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT account_mode_change');
      throw error;
    }
  }

  /** The one write of monitor-only (libs/accounts checks the rules first, inside `withAccountLock`). */
  updateMonitorOnly(tx: AccountTx, accountId: string, monitorOnly: boolean): Promise<Account> {
    return tx.account.update({ where: { id: accountId }, data: { monitorOnly } });
  }
}

