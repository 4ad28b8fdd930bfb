import { Injectable } from '@nestjs/common';
import { PrismaService, type Account, type Domain, type DomainMode, type Prisma } from '@mailwarden/db';

export type AccountTx = Prisma.TransactionClient;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Queries for account and domain mode changes; every write runs inside `withAccountLock`. */
@Injectable()
export class AccountModeRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** True for an id the uuid columns can hold; anything else is simply "not found" (no SQL error for bad ids). */
  static isUuid(id: string): boolean {
    return UUID.test(id);
  }

  /**
   * Runs `work` in a transaction that first locks the account row (FOR UPDATE), so mode changes of one account
   * run one at a time; the database triggers lock the same row, so a writer that bypasses this still serializes.
   * Returns null when the account does not exist.
   */
  async withAccountLock<T>(accountId: string, work: (tx: AccountTx, account: Account) => Promise<T>): Promise<T | null> {
    if (!AccountModeRepository.isUuid(accountId)) {
      return null;
    }
    return this.prisma.$transaction(async (tx) => {
      const account = await this.lockAccountRow(tx, accountId);
      return account ? work(tx, account) : null;
    });
  }

  findAccount(accountId: string): Promise<Account | null> {
    return AccountModeRepository.isUuid(accountId) ? this.prisma.account.findUnique({ where: { id: accountId } }) : Promise.resolve(null);
  }

  findDomain(domainId: string): Promise<Domain | null> {
    return AccountModeRepository.isUuid(domainId) ? this.prisma.domain.findUnique({ where: { id: domainId } }) : Promise.resolve(null);
  }

  /** The account's own row of that name (other accounts may have added it too, unverified). */
  findDomainByName(tx: AccountTx, accountId: string, name: string): Promise<Domain | null> {
    return tx.domain.findUnique({ where: { accountId_name: { accountId, name } } });
  }

  listDomains(tx: AccountTx, accountId: string): Promise<Domain[]> {
    return tx.domain.findMany({ where: { accountId }, orderBy: { name: 'asc' } });
  }

  listVerifiedDomainNames(accountId: string): Promise<string[]> {
    if (!AccountModeRepository.isUuid(accountId)) {
      return Promise.resolve([]);
    }
    return this.prisma.domain
      .findMany({ where: { accountId, verificationStatus: 'VERIFIED' }, select: { name: true }, orderBy: { name: 'asc' } })
      .then((rows) => rows.map((row) => row.name));
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

  /** The one write of a domain's mode (and of the other mode it also accepts mail on during a migration). */
  updateDomainMode(tx: AccountTx, domainId: string, change: { mode?: DomainMode; transitionMode?: DomainMode | null }): Promise<Domain> {
    return tx.domain.update({ where: { id: domainId }, data: change });
  }

  updateMonitorOnly(tx: AccountTx, accountId: string, monitorOnly: boolean): Promise<Account> {
    return tx.account.update({ where: { id: accountId }, data: { monitorOnly } });
  }
}
