import { Injectable } from '@nestjs/common';
import type { Group, User } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import { AuditRepository } from './audit.repository';
import { auditSnapshot, type AuditActor } from './admin-audit';

export type GroupWithMembers = Group & { members: Array<{ user: User }> };

const WITH_MEMBERS = { members: { include: { user: true } } } as const;

/** Mailboxes and groups of an account (the user and group levels of policy); every write commits with its audit entry. */
@Injectable()
export class DirectoryRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  listMailboxes(accountId: string, page: { afterEmail?: string; limit: number }): Promise<User[]> {
    return this.prisma.user.findMany({
      where: { accountId, ...(page.afterEmail ? { email: { gt: page.afterEmail } } : {}) },
      orderBy: { email: 'asc' },
      take: page.limit,
    });
  }

  findMailboxesByEmail(accountId: string, emails: readonly string[]): Promise<User[]> {
    return this.prisma.user.findMany({ where: { accountId, email: { in: [...emails] } } });
  }

  /** Adds a mailbox; a second one with the same address fails with P2002. */
  createMailbox(accountId: string, input: { email: string; displayName: string | null }, actor: AuditActor): Promise<User> {
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { accountId, email: input.email, displayName: input.displayName } });
      await this.audit.append({ ...actor, accountId, action: 'mailbox.added', objectType: 'mailbox', objectId: user.id, after: auditSnapshot(user) }, tx);
      return user;
    });
  }

  /** Removes a mailbox (and its group memberships); null when the account has no such mailbox. */
  removeMailbox(accountId: string, mailboxId: string, actor: AuditActor): Promise<User | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.user.findFirst({ where: { id: mailboxId, accountId } });
      if (!before) {
        return null;
      }
      await tx.user.delete({ where: { id: mailboxId } });
      await this.audit.append({ ...actor, accountId, action: 'mailbox.removed', objectType: 'mailbox', objectId: mailboxId, before: auditSnapshot(before) }, tx);
      return before;
    });
  }

  listGroups(accountId: string, page: { afterName?: string; limit: number }): Promise<GroupWithMembers[]> {
    return this.prisma.group.findMany({
      where: { accountId, ...(page.afterName ? { name: { gt: page.afterName } } : {}) },
      orderBy: { name: 'asc' },
      take: page.limit,
      include: WITH_MEMBERS,
    });
  }

  /** Adds a group with its members (mailbox ids of the account); a second group of the same name fails with P2002. */
  createGroup(accountId: string, input: { name: string; memberIds: readonly string[] }, actor: AuditActor): Promise<GroupWithMembers> {
    return this.prisma.$transaction(async (tx) => {
      const group = await tx.group.create({
        data: { accountId, name: input.name, members: { create: input.memberIds.map((userId) => ({ userId })) } },
        include: WITH_MEMBERS,
      });
      await this.audit.append({ ...actor, accountId, action: 'group.added', objectType: 'group', objectId: group.id, after: groupSnapshot(group) }, tx);
      return group;
    });
  }

  /** Replaces the members of a group; null when the account has no such group. */
  setGroupMembers(accountId: string, groupId: string, memberIds: readonly string[], actor: AuditActor): Promise<GroupWithMembers | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.group.findFirst({ where: { id: groupId, accountId }, include: WITH_MEMBERS });
      if (!before) {
        return null;
      }
      await tx.groupMembership.deleteMany({ where: { groupId } });
      await tx.groupMembership.createMany({ data: memberIds.map((userId) => ({ groupId, userId })) });
      const after = await tx.group.findUniqueOrThrow({ where: { id: groupId }, include: WITH_MEMBERS });
      await this.audit.append(
        { ...actor, accountId, action: 'group.members_set', objectType: 'group', objectId: groupId, before: groupSnapshot(before), after: groupSnapshot(after) },
        tx,
      );
      return after;
    });
  }

  removeGroup(accountId: string, groupId: string, actor: AuditActor): Promise<GroupWithMembers | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.group.findFirst({ where: { id: groupId, accountId }, include: WITH_MEMBERS });
      if (!before) {
        return null;
      }
      await tx.group.delete({ where: { id: groupId } });
      await this.audit.append({ ...actor, accountId, action: 'group.removed', objectType: 'group', objectId: groupId, before: groupSnapshot(before) }, tx);
      return before;
    });
  }
}

function groupSnapshot(group: GroupWithMembers) {
  return auditSnapshot({ id: group.id, name: group.name, members: group.members.map((member) => member.user.email).sort() });
}
