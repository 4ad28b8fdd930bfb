import { Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { AccountRepository, type Account, type AuditActor } from '@mailwarden/db';
import { AccountRuleCode, AccountRuleException } from './account-rules.errors';

/** More ranges than any provider publishes for its journaling (Microsoft 365's list is about 20). */
export const MAX_JOURNAL_SOURCE_RANGES = 100;

export type SourceRangesCheck = { ok: true; ranges: string[] } | { ok: false; errors: Array<{ index: number; value: string; message: string }> };

/**
 * Validates journal source ranges: each an IPv4 or IPv6 address or CIDR range (`40.92.0.0/15`, `2a01:111::/32`),
 * returned trimmed, lower-case and without duplicates. An empty list means any address.
 */
export function checkSourceRanges(values: readonly string[]): SourceRangesCheck {
  const errors: Array<{ index: number; value: string; message: string }> = [];
  const ranges: string[] = [];
  if (values.length > MAX_JOURNAL_SOURCE_RANGES) {
    return { ok: false, errors: [{ index: MAX_JOURNAL_SOURCE_RANGES, value: '', message: `at most ${MAX_JOURNAL_SOURCE_RANGES} ranges` }] };
  }
  values.forEach((value, index) => {
    const text = String(value).trim().toLowerCase();
    const [address = '', prefix, extra] = text.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits))) {
      errors.push({ index, value: String(value), message: `"${String(value)}" is not an IP address or CIDR range (e.g. 40.92.0.0/15)` });
    } else if (!ranges.includes(text)) {
      ranges.push(text);
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, ranges };
}

/**
 * Sets an account's journal source ranges and require-TLS flag: the one function the admin API's
 * `PATCH /v1/accounts/{id}/journal` and the operator CLI's `journal set` both call (validated, audited).
 */
@Injectable()
export class JournalSettingsService {
  constructor(private readonly accounts: AccountRepository) {}

  async set(accountId: string, change: { sourceIps?: readonly string[]; requireTls?: boolean }, actor: AuditActor): Promise<Account> {
    let sourceIps: string[] | undefined;
    if (change.sourceIps !== undefined) {
      const check = checkSourceRanges(change.sourceIps);
      if (!check.ok) {
        throw new AccountRuleException(AccountRuleCode.InvalidInput, check.errors.map((error) => `sourceIps[${error.index}]: ${error.message}`).join('; '));
      }
      sourceIps = check.ranges;
    }
    const updated = await this.accounts.setJournalSettings(accountId, { sourceIps, requireTls: change.requireTls }, actor);
    if (!updated) {
      throw new AccountRuleException(AccountRuleCode.AccountNotFound, `account ${accountId} not found`);
    }
    return updated;
  }
}
