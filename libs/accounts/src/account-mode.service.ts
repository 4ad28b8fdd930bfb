import { Injectable, Logger } from '@nestjs/common';
import type { Account, Domain, DomainMode, MessageDirection } from '@mailwarden/db';
import { AccountModeRepository } from './account-mode.repository';
import { AccountRuleCode, AccountRuleException, accountRuleCodeOfDatabaseError } from './account-rules.errors';
import { canSetDomainMode, canSetMonitorOnly, normalizeDomainName, type RuleCheck } from './domain-mode';
import { classifyDirection } from './message-direction';
import { isEnforced } from './monitor-only';

function assertAllowed(check: RuleCheck): void {
  if (!check.ok) {
    throw new AccountRuleException(check.code, check.reason);
  }
}

/**
 * The one place apps ask about monitor-only and domain modes (DESIGN.md §2). Checks the rules in code first, for
 * a typed refusal with a reason code; the database triggers refuse the same violations if anything slips past,
 * and their refusals are turned into the same AccountRuleException.
 */
@Injectable()
export class AccountModeService {
  private readonly logger = new Logger(AccountModeService.name);

  constructor(private readonly repository: AccountModeRepository) {}

  /** Whether actions are applied for the account (`!monitorOnly`). */
  async isEnforced(accountId: string): Promise<boolean> {
    const account = await this.repository.findAccount(accountId);
    if (!account) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return isEnforced(account);
  }

  /** Read-only check before connecting `name` to the account in `mode` (the admin API's "add domain"). */
  async checkNewDomain(accountId: string, name: string, mode: DomainMode): Promise<RuleCheck> {
    const result = await this.repository.withAccountLock(accountId, async (tx, account) => {
      const normalized = normalizeDomainName(name);
      const existing = normalized === '' ? null : await this.repository.findDomainByName(tx, accountId, normalized);
      return canSetDomainMode(account, { name: normalized, accountId }, mode, existing ? new Map([[normalized, existing]]) : undefined);
    });
    if (result === null) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return result;
  }

  /** Moves an existing domain to `mode`; refused with AccountRuleException when DESIGN.md §2 forbids it. */
  async setDomainMode(domainId: string, mode: DomainMode): Promise<Domain> {
    const domain = await this.repository.findDomain(domainId);
    if (!domain) {
      throw new AccountRuleException(AccountRuleCode.DomainNotFound, `domain ${domainId} not found`);
    }
    const change = await this.translateDatabaseRefusal(() =>
      this.repository.withAccountLock(domain.accountId, async (tx, account) => {
        // Re-read under the account lock: the row read above may have changed since.
        const current = await this.repository.findDomainInTx(tx, domain.id);
        if (!current) {
          throw new AccountRuleException(AccountRuleCode.DomainNotFound, `domain ${domainId} not found`);
        }
        const sameName = await this.repository.findDomainByName(tx, account.id, current.name);
        assertAllowed(canSetDomainMode(account, current, mode, sameName ? new Map([[sameName.name, sameName]]) : undefined));
        return { from: current.mode, domain: await this.repository.updateDomainMode(tx, current.id, mode) };
      }),
    );
    if (!change) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${domain.accountId} not found`);
    }
    this.logger.log({ event: 'account.domain_mode_changed', accountId: change.domain.accountId, domainId, from: change.from, to: mode });
    return change.domain;
  }

  /** Turns monitor-only on or off; turning it on is refused while any domain is in GATEWAY or MAILFLOW mode. */
  async setMonitorOnly(accountId: string, monitorOnly: boolean): Promise<Account> {
    const updated = await this.translateDatabaseRefusal(() =>
      this.repository.withAccountLock(accountId, async (tx, account) => {
        assertAllowed(canSetMonitorOnly(account, await this.repository.listDomains(tx, accountId), monitorOnly));
        return this.repository.updateMonitorOnly(tx, accountId, monitorOnly);
      }),
    );
    if (!updated) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    this.logger.log({ event: 'account.monitor_only_changed', accountId, monitorOnly });
    return updated;
  }

  /** Direction of a message relative to the account, counting only its verified domains as its own. */
  async classifyDirection(accountId: string, envelopeSender: string | null, recipients: readonly string[]): Promise<MessageDirection> {
    return classifyDirection(await this.repository.listVerifiedDomainNames(accountId), envelopeSender, recipients);
  }

  private async translateDatabaseRefusal<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const code = error instanceof AccountRuleException ? null : accountRuleCodeOfDatabaseError(error);
      if (code === null) {
        throw error;
      }
      throw new AccountRuleException(code, (error as Error).message, { cause: error });
    }
  }
}
