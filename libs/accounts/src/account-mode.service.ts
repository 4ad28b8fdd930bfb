import { Injectable, Logger } from '@nestjs/common';
import { AccountRepository, DomainRepository, isUuid, type Account, type AccountTx, type Domain, type DomainMode } from '@mailwarden/db';
import { AccountRuleCode, AccountRuleException, accountRuleCodeOfDatabaseError } from './account-rules.errors';
import { canSetDomainMode, canSetMonitorOnly, normalizeDomainName, type RuleCheck } from './domain-mode';
import { decideDirection, type ArrivalEvidence, type DirectionDecision } from './message-direction';
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

  constructor(
    private readonly accounts: AccountRepository,
    private readonly domains: DomainRepository,
  ) {}

  /** Whether actions are applied for the account (`!monitorOnly`). */
  async isEnforced(accountId: string): Promise<boolean> {
    const account = await this.accounts.find(accountId);
    if (!account) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return isEnforced(account);
  }

  /** Read-only check before connecting `name` to the account in `mode` (the admin API's "add domain"). */
  async checkNewDomain(accountId: string, name: string, mode: DomainMode): Promise<RuleCheck> {
    const result = await this.accounts.withAccountLock(accountId, async (tx, account) => {
      const normalized = normalizeDomainName(name);
      const existing = normalized === '' ? null : await this.domains.findByName(tx, accountId, normalized);
      return canSetDomainMode(account, { name: normalized, accountId }, mode, existing ? new Map([[normalized, existing]]) : undefined);
    });
    if (result === null) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return result;
  }

  /** Moves an existing domain to `mode`; refused with AccountRuleException when DESIGN.md §2 forbids it. */
  async setDomainMode(domainId: string, mode: DomainMode): Promise<Domain> {
    const domain = await this.domains.findById(domainId);
    if (!domain) {
      throw new AccountRuleException(AccountRuleCode.DomainNotFound, `domain ${domainId} not found`);
    }
    const changed = await this.accounts.withAccountLock(domain.accountId, (tx) => this.changeDomainInTx(tx, domain.accountId, domainId, { mode }));
    if (!changed) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${domain.accountId} not found`);
    }
    return changed;
  }

  /** Turns monitor-only on or off; turning it on is refused while any domain is in GATEWAY or MAILFLOW mode. */
  async setMonitorOnly(accountId: string, monitorOnly: boolean): Promise<Account> {
    const updated = await this.accounts.withAccountLock(accountId, (tx) => this.changeMonitorOnlyInTx(tx, accountId, monitorOnly));
    if (!updated) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return updated;
  }

  /**
   * Changes a domain's mode and/or the other mode it also accepts mail on during a migration, inside a
   * transaction the caller holds (the mode-migration runner's step, so the change commits with the step record).
   * The one path for mode rules: the account row is locked first (the triggers' lock order), the rows re-read,
   * the rules checked, and a statement the triggers refuse is rolled back to a savepoint and reported as
   * AccountRuleException, leaving the caller's transaction usable.
   */
  async changeDomainInTx(tx: AccountTx, accountId: string, domainId: string, change: { mode?: DomainMode; transitionMode?: DomainMode | null }): Promise<Domain> {
    return this.inAccountTx(tx, accountId, async (account, domains) => {
      const current = domains.find((candidate) => candidate.id === domainId);
      if (!current) {
        throw new AccountRuleException(AccountRuleCode.DomainNotFound, `domain ${domainId} not found`);
      }
      const mode = change.mode ?? current.mode;
      assertAllowed(canSetDomainMode(account, current, mode, new Map(domains.map((candidate) => [candidate.name, candidate]))));
      const updated = await this.domains.updateMode(tx, current.id, change);
      if (mode !== current.mode) {
        this.logger.log({ event: 'account.domain_mode_changed', accountId, domainId, from: current.mode, to: mode });
      }
      if (change.transitionMode !== undefined && change.transitionMode !== current.transitionMode) {
        this.logger.log({ event: 'account.domain_transition_changed', accountId, domainId, from: current.transitionMode, to: change.transitionMode });
      }
      return updated;
    });
  }

  /** Turns monitor-only on or off inside a transaction the caller holds (see `changeDomainInTx`). */
  async changeMonitorOnlyInTx(tx: AccountTx, accountId: string, monitorOnly: boolean): Promise<Account> {
    return this.inAccountTx(tx, accountId, async (account, domains) => {
      assertAllowed(canSetMonitorOnly(account, domains, monitorOnly));
      const updated = await this.accounts.updateMonitorOnly(tx, accountId, monitorOnly);
      this.logger.log({ event: 'account.monitor_only_changed', accountId, monitorOnly });
      return updated;
    });
  }

  private async inAccountTx<T>(tx: AccountTx, accountId: string, change: (account: Account, domains: Domain[]) => Promise<T>): Promise<T> {
    const account = isUuid(accountId) ? await this.accounts.lockAccountRow(tx, accountId) : null;
    if (!account) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return this.translateDatabaseRefusal(() => this.accounts.inSavepoint(tx, async () => change(account, await this.domains.listAll(tx, accountId))));
  }

  /**
   * Direction of a message relative to the account from the receiving path's evidence (`decideDirection`),
   * counting only the account's verified domains as its own.
   */
  async decideDirection(accountId: string, envelopeSender: string | null, recipients: readonly string[], arrival: ArrivalEvidence): Promise<DirectionDecision> {
    return decideDirection(await this.domains.listVerifiedNames(accountId), envelopeSender, recipients, arrival);
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
