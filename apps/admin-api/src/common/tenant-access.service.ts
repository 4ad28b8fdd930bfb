import { Injectable } from '@nestjs/common';
import { AccountRepository, type Account } from '@mailwarden/db';
import { ApiProblem } from './problem-code';
import type { Principal } from './principal';

/** True when the key may see the account: its partner's accounts (partner admin) or its own account. */
export function canSeeAccount(principal: Principal, account: Pick<Account, 'id' | 'partnerId'>): boolean {
  if (principal.role === 'PARTNER_ADMIN') {
    return principal.partnerId !== null && account.partnerId === principal.partnerId;
  }
  return principal.accountId === account.id;
}

/**
 * Tenant isolation: every route with an account id asks here first. An account the key may not see is answered
 * exactly like one that does not exist (404), so a key learns nothing about other tenants.
 */
@Injectable()
export class TenantAccess {
  constructor(private readonly accounts: AccountRepository) {}

  async account(principal: Principal, accountId: string): Promise<Account> {
    const account = await this.accounts.find(accountId);
    if (!account || !canSeeAccount(principal, account)) {
      throw ApiProblem.notFound('account', accountId);
    }
    return account;
  }
}
