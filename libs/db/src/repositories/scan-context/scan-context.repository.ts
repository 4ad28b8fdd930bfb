import { Injectable } from '@nestjs/common';
import type { Account, Domain, Policy } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';

/** A mailbox of the account and the groups it belongs to: the user and group levels of policy resolution. */
export interface MailboxTarget {
  email: string;
  userId: string;
  groupIds: string[];
}

/** What a scan reads besides the message: the account, the policies that can apply to it, and its mailboxes. */
@Injectable()
export class ScanContextRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The account with its domains (monitor-only flag, verified domains, partner). */
  findAccount(accountId: string): Promise<(Account & { domains: Domain[] }) | null> {
    return this.prisma.account.findUnique({ where: { id: accountId }, include: { domains: true } });
  }

  /** Every policy row of the account (all scopes) and of its partner (partner scope). */
  loadPolicies(accountId: string, partnerId: string | null): Promise<Policy[]> {
    return this.prisma.policy.findMany({
      where: { OR: [{ accountId }, ...(partnerId ? [{ partnerId, scope: 'PARTNER' as const }] : [])] },
    });
  }

  async findMailboxes(accountId: string, emails: readonly string[]): Promise<Map<string, MailboxTarget>> {
    const users = await this.prisma.user.findMany({
      where: { accountId, email: { in: emails.map((email) => email.toLowerCase()) } },
      include: { groups: { include: { group: { select: { id: true, name: true } } } } },
    });
    return new Map(
      users.map((user) => [
        user.email,
        {
          email: user.email,
          userId: user.id,
          // Group precedence: by name, so resolution is deterministic when a user is in several groups.
          groupIds: user.groups.map((membership) => membership.group).sort((a, b) => a.name.localeCompare(b.name)).map((group) => group.id),
        },
      ]),
    );
  }
}
