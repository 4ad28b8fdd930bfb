import { Injectable } from '@nestjs/common';
import { DirectoryRepository, type GroupWithMembers, type User } from '@mailwarden/db';
import { decodeCursor, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { CreateGroupDto } from './dto/create-group.dto';
import type { CreateMailboxDto } from './dto/create-mailbox.dto';
import type { GroupDto } from './dto/group.dto';
import type { MailboxDto } from './dto/mailbox.dto';

const toMailboxDto = (user: User): MailboxDto => ({ id: user.id, email: user.email, displayName: user.displayName, createdAt: user.createdAt.toISOString() });
const toGroupDto = (group: GroupWithMembers): GroupDto => ({
  id: group.id,
  name: group.name,
  members: group.members.map((member) => member.user.email).sort(),
  createdAt: group.createdAt.toISOString(),
});
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === 'P2002';

/** Mailboxes and groups: the user and group levels that policies resolve through (DESIGN.md §5). */
@Injectable()
export class DirectoryService {
  constructor(
    private readonly directory: DirectoryRepository,
    private readonly access: TenantAccess,
  ) {}

  async addMailbox(principal: Principal, accountId: string, dto: CreateMailboxDto): Promise<MailboxDto> {
    await this.access.account(principal, accountId);
    const email = dto.email.trim().toLowerCase();
    try {
      return toMailboxDto(await this.directory.createMailbox(accountId, { email, displayName: dto.displayName ?? null }, actorOf(principal)));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ApiProblem(409, ProblemCode.Conflict, `mailbox ${email} already exists in this account`);
      }
      throw error;
    }
  }

  async listMailboxes(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<MailboxDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['email'] as const);
    const rows = await this.directory.listMailboxes(accountId, { afterEmail: after?.email, limit: limit + 1 });
    return toPage(rows, limit, (row) => ({ email: row.email }), toMailboxDto);
  }

  async removeMailbox(principal: Principal, accountId: string, mailboxId: string): Promise<MailboxDto> {
    await this.access.account(principal, accountId);
    const removed = await this.directory.removeMailbox(accountId, mailboxId, actorOf(principal));
    if (!removed) {
      throw ApiProblem.notFound('mailbox', mailboxId);
    }
    return toMailboxDto(removed);
  }

  async addGroup(principal: Principal, accountId: string, dto: CreateGroupDto): Promise<GroupDto> {
    await this.access.account(principal, accountId);
    const memberIds = await this.memberIds(accountId, dto.members ?? []);
    try {
      return toGroupDto(await this.directory.createGroup(accountId, { name: dto.name.trim(), memberIds }, actorOf(principal)));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ApiProblem(409, ProblemCode.Conflict, `group ${dto.name.trim()} already exists in this account`);
      }
      throw error;
    }
  }

  async listGroups(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<GroupDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['name'] as const);
    const rows = await this.directory.listGroups(accountId, { afterName: after?.name, limit: limit + 1 });
    return toPage(rows, limit, (row) => ({ name: row.name }), toGroupDto);
  }

  async setGroupMembers(principal: Principal, accountId: string, groupId: string, members: string[]): Promise<GroupDto> {
    await this.access.account(principal, accountId);
    const updated = await this.directory.setGroupMembers(accountId, groupId, await this.memberIds(accountId, members), actorOf(principal));
    if (!updated) {
      throw ApiProblem.notFound('group', groupId);
    }
    return toGroupDto(updated);
  }

  async removeGroup(principal: Principal, accountId: string, groupId: string): Promise<GroupDto> {
    await this.access.account(principal, accountId);
    const removed = await this.directory.removeGroup(accountId, groupId, actorOf(principal));
    if (!removed) {
      throw ApiProblem.notFound('group', groupId);
    }
    return toGroupDto(removed);
  }

  /** Mailbox ids for member addresses; every address must be a mailbox of the account (400 naming the others). */
  private async memberIds(accountId: string, members: readonly string[]): Promise<string[]> {
    const emails = [...new Set(members.map((member) => member.trim().toLowerCase()))];
    const found = await this.directory.findMailboxesByEmail(accountId, emails);
    const known = new Set(found.map((user) => user.email));
    const unknown = emails.filter((email) => !known.has(email));
    if (unknown.length > 0) {
      throw new ApiProblem(
        400,
        ProblemCode.ValidationFailed,
        'every member must be a mailbox of the account',
        unknown.map((email) => ({ field: 'members', code: 'UNKNOWN_MAILBOX', message: `${email} is not a mailbox of this account` })),
      );
    }
    return found.map((user) => user.id);
  }
}
