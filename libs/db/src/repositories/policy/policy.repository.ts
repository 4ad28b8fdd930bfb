import { Injectable } from '@nestjs/common';
import type { Domain, Group, Policy, PolicyKind, PolicyScope, Prisma, User } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';

export interface PolicyKey {
  kind: PolicyKind;
  scope: PolicyScope;
  scopeId: string;
}

export interface PolicyWrite extends PolicyKey {
  partnerId: string | null;
  accountId: string | null;
  settings: Prisma.InputJsonValue;
  locks: string[];
}

/** What a recipient address maps to inside one account (for policy resolution). */
export interface RecipientContext {
  domain: Domain | null;
  user: User | null;
  /** The user's groups, ordered by name (the precedence order policy resolution uses). */
  groups: Group[];
}

/** Stored Email Security and Data Control policies; writes commit with their audit entry. */
@Injectable()
export class PolicyRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  find(key: PolicyKey): Promise<Policy | null> {
    return this.prisma.policy.findUnique({ where: { kind_scope_scopeId: key } });
  }

  /** The account's RETENTION settings and its partner's ceiling (null where none is stored), in one query. */
  async retentionSettings(account: { id: string; partnerId: string | null }): Promise<{ account: unknown; partner: unknown }> {
    const rows = await this.prisma.policy.findMany({
      where: {
        kind: 'RETENTION',
        OR: [{ scope: 'ACCOUNT', scopeId: account.id, accountId: account.id }, ...(account.partnerId ? [{ scope: 'PARTNER' as const, scopeId: account.partnerId }] : [])],
      },
      select: { scope: true, settings: true },
    });
    return { account: rows.find((row) => row.scope === 'ACCOUNT')?.settings ?? null, partner: rows.find((row) => row.scope === 'PARTNER')?.settings ?? null };
  }

  /** Replaces the settings and locks at one scope (creating the row if needed). */
  put(write: PolicyWrite, actor: AuditActor): Promise<Policy> {
    return this.prisma.$transaction(async (tx) => {
      const key = { kind: write.kind, scope: write.scope, scopeId: write.scopeId };
      const before = await tx.policy.findUnique({ where: { kind_scope_scopeId: key } });
      const after = await tx.policy.upsert({
        where: { kind_scope_scopeId: key },
        create: { ...key, partnerId: write.partnerId, accountId: write.accountId, settings: write.settings, locks: write.locks },
        update: { settings: write.settings, locks: write.locks },
      });
      await this.audit.append(
        {
          ...actor,
          accountId: write.accountId,
          partnerId: write.partnerId,
          action: 'policy.updated',
          objectType: 'policy',
          objectId: after.id,
          before: auditSnapshot(before),
          after: auditSnapshot(after),
        },
        tx,
      );
      return after;
    });
  }

  /** Every stored row of one kind that may apply inside the account (partner, account, domain, group and user rows). */
  listForAccount(kind: PolicyKind, accountId: string, partnerId: string | null): Promise<Policy[]> {
    return this.prisma.policy.findMany({
      where: { kind, OR: [{ accountId }, ...(partnerId ? [{ scope: 'PARTNER' as const, scopeId: partnerId }] : [])] },
    });
  }

  findGroup(accountId: string, groupId: string): Promise<Group | null> {
    return this.prisma.group.findFirst({ where: { id: groupId, accountId } });
  }

  findUser(accountId: string, userId: string): Promise<User | null> {
    return this.prisma.user.findFirst({ where: { id: userId, accountId } });
  }

  findDomain(accountId: string, domainId: string): Promise<Domain | null> {
    return this.prisma.domain.findFirst({ where: { id: domainId, accountId } });
  }

  async recipientContext(accountId: string, address: string): Promise<RecipientContext> {
    const email = address.trim().toLowerCase();
    const domainName = email.slice(email.lastIndexOf('@') + 1);
    const [domain, user] = await Promise.all([
      this.prisma.domain.findFirst({ where: { accountId, name: domainName } }),
      this.prisma.user.findUnique({ where: { accountId_email: { accountId, email } }, include: { groups: { include: { group: true } } } }),
    ]);
    const groups = (user?.groups ?? []).map((membership) => membership.group).sort((a, b) => a.name.localeCompare(b.name));
    if (user) {
      const { groups: _memberships, ...plain } = user;
      return { domain, user: plain, groups };
    }
    return { domain, user: null, groups };
  }
}
