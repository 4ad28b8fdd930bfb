import { Injectable } from '@nestjs/common';
import type { Policy } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** A mailbox of the account and the groups it belongs to: the user and group levels of policy resolution. */
export interface MailboxTarget {
  email: string;
  userId: string;
  groupIds: string[];
}

/** What a scan reads besides the message: the policies that can apply to the account, and its mailboxes. */
@Injectable()
export class ScanContextRepository {
  constructor(private readonly prisma: PrismaService) {}

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
