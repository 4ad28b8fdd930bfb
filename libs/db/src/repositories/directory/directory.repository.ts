import { Injectable } from '@nestjs/common';
import type { Group, Prisma, User } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';
import type { Db } from '../message/raw-message-store';

export type GroupWithMembers = Group & { members: Array<{ user: User }> };

const WITH_MEMBERS = { members: { include: { user: true } } } as const;

/**
 * A batch of directory changes from an external source (Microsoft 365 delta sync, CSV import). Mailboxes with an
 * `externalId` are matched by it (a rename keeps the mailbox, its memberships and policies); without one, by address.
 */
export interface DirectoryChangeSet {
  upsertMailboxes: Array<{ externalId?: string; email: string; displayName: string | null }>;
  removeMailboxes: Array<{ externalId: string }>;
  /** `memberExternalIds`: the group's whole member list (ids of mailboxes); null leaves the members as they are. */
  upsertGroups: Array<{ externalId: string; name: string; memberExternalIds: string[] | null }>;
  removeGroups: Array<{ externalId: string }>;
  /** Full sync: every mapped mailbox and group not in this set is removed. */
  full: boolean;
}

export interface DirectoryChangeCounts {
  mailboxesAdded: number;
  mailboxesUpdated: number;
  mailboxesRemoved: number;
  groupsAdded: number;
  groupsUpdated: number;
  groupsRemoved: number;
  membershipsSet: number;
}

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

  /**
   * A group of the account synced from Microsoft 365: its Graph id (Exchange matches members by it) and name
   * (`db`: a caller's transaction, e.g. a mode migration's).
   */
  async findSyncedGroup(accountId: string, groupId: string, db: Db = this.prisma): Promise<{ graphId: string; name: string } | null> {
    const mapped = await db.m365DirectoryObject.findUnique({ where: { accountId_kind_localId: { accountId, kind: 'GROUP', localId: groupId } } });
    const group = mapped ? await db.group.findFirst({ where: { id: groupId, accountId } }) : null;
    return mapped && group ? { graphId: mapped.graphId, name: group.name } : null;
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

  /**
   * Applies a synced change set in the caller's transaction (all or nothing with the sync run that records it).
   * External ids map to local rows through m365_directory_object, so synced mailboxes and groups are the same rows
   * the user and group levels of policy point at.
   */
  async applyChanges(tx: Prisma.TransactionClient, accountId: string, changes: DirectoryChangeSet): Promise<DirectoryChangeCounts> {
    const counts: DirectoryChangeCounts = { mailboxesAdded: 0, mailboxesUpdated: 0, mailboxesRemoved: 0, groupsAdded: 0, groupsUpdated: 0, groupsRemoved: 0, membershipsSet: 0 };
    const mapped = async (kind: 'USER' | 'GROUP') =>
      new Map((await tx.m365DirectoryObject.findMany({ where: { accountId, kind } })).map((row) => [row.graphId, row.localId]));
    const users = await mapped('USER');

    const removeMailbox = async (externalId: string) => {
      const localId = users.get(externalId);
      if (localId) {
        counts.mailboxesRemoved += (await tx.user.deleteMany({ where: { id: localId, accountId } })).count;
        await tx.m365DirectoryObject.deleteMany({ where: { accountId, kind: 'USER', graphId: externalId } });
        users.delete(externalId);
      }
    };
    for (const { externalId } of changes.removeMailboxes) {
      await removeMailbox(externalId);
    }
    if (changes.full) {
      const kept = new Set(changes.upsertMailboxes.map((mailbox) => mailbox.externalId));
      for (const externalId of [...users.keys()].filter((id) => !kept.has(id))) {
        await removeMailbox(externalId);
      }
    }
    for (const mailbox of changes.upsertMailboxes) {
      const email = mailbox.email.trim().toLowerCase();
      const localId = mailbox.externalId ? users.get(mailbox.externalId) : undefined;
      const current = localId ? await tx.user.findFirst({ where: { id: localId, accountId } }) : null;
      const byEmail = await tx.user.findUnique({ where: { accountId_email: { accountId, email } } });
      let user: User;
      if (current) {
        if (byEmail && byEmail.id !== current.id) {
          // The new address belongs to another (manually added) mailbox: that one is adopted, the old row goes.
          await tx.user.delete({ where: { id: current.id } });
          user = byEmail;
        } else {
          user = current;
        }
        if (user.email !== email || user.displayName !== mailbox.displayName) {
          user = await tx.user.update({ where: { id: user.id }, data: { email, displayName: mailbox.displayName } });
          counts.mailboxesUpdated++;
        }
      } else if (byEmail) {
        user = byEmail;
        if (byEmail.displayName !== mailbox.displayName && mailbox.displayName !== null) {
          user = await tx.user.update({ where: { id: byEmail.id }, data: { displayName: mailbox.displayName } });
          counts.mailboxesUpdated++;
        }
      } else {
        user = await tx.user.create({ data: { accountId, email, displayName: mailbox.displayName } });
        counts.mailboxesAdded++;
      }
      if (mailbox.externalId && users.get(mailbox.externalId) !== user.id) {
        await tx.m365DirectoryObject.deleteMany({ where: { accountId, kind: 'USER', OR: [{ graphId: mailbox.externalId }, { localId: user.id }] } });
        await tx.m365DirectoryObject.create({ data: { accountId, kind: 'USER', graphId: mailbox.externalId, localId: user.id } });
        users.set(mailbox.externalId, user.id);
      }
    }

    const groups = await mapped('GROUP');
    const removeGroup = async (externalId: string) => {
      const localId = groups.get(externalId);
      if (localId) {
        counts.groupsRemoved += (await tx.group.deleteMany({ where: { id: localId, accountId } })).count;
        await tx.m365DirectoryObject.deleteMany({ where: { accountId, kind: 'GROUP', graphId: externalId } });
        groups.delete(externalId);
      }
    };
    for (const { externalId } of changes.removeGroups) {
      await removeGroup(externalId);
    }
    if (changes.full) {
      const kept = new Set(changes.upsertGroups.map((group) => group.externalId));
      for (const externalId of [...groups.keys()].filter((id) => !kept.has(id))) {
        await removeGroup(externalId);
      }
    }
    for (const synced of changes.upsertGroups) {
      const localId = groups.get(synced.externalId);
      let group = localId ? await tx.group.findFirst({ where: { id: localId, accountId } }) : null;
      const clash = await tx.group.findUnique({ where: { accountId_name: { accountId, name: synced.name } } });
      // Entra allows two groups of one name; the local name is unique per account, so the second gets its id appended.
      const name = clash && clash.id !== group?.id ? `${synced.name} (${synced.externalId.slice(0, 8)})` : synced.name;
      if (!group) {
        group = await tx.group.create({ data: { accountId, name } });
        await tx.m365DirectoryObject.create({ data: { accountId, kind: 'GROUP', graphId: synced.externalId, localId: group.id } });
        groups.set(synced.externalId, group.id);
        counts.groupsAdded++;
      } else if (group.name !== name) {
        group = await tx.group.update({ where: { id: group.id }, data: { name } });
        counts.groupsUpdated++;
      }
      if (synced.memberExternalIds) {
        const memberIds = [...new Set(synced.memberExternalIds.map((id) => users.get(id)).filter((id): id is string => id !== undefined))];
        await tx.groupMembership.deleteMany({ where: { groupId: group.id } });
        await tx.groupMembership.createMany({ data: memberIds.map((userId) => ({ groupId: group.id, userId })) });
        counts.membershipsSet++;
      }
    }
    return counts;
  }
}


function groupSnapshot(group: GroupWithMembers) {
  return auditSnapshot({ id: group.id, name: group.name, members: group.members.map((member) => member.user.email).sort() });
}
