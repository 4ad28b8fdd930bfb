import { Injectable } from '@nestjs/common';
import { passwordProblem } from '@mailwarden/auth';
import { AdminUserRepository, hashSecret, Prisma, type AdminUserScope } from '@mailwarden/db';
import { decodeCursor, pageLimit, toPage } from '../common/cursor';
import { actorOf, type Principal } from '../common/principal';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { TenantAccess } from '../common/tenant-access.service';
import { type CreateUserDto, toUserDto, type UpdateUserDto, type UserDto, type UserPageDto, type UserQueryDto } from './dto/user.dto';

/** Whose users the caller manages: a partner admin its partner's (its partner admins and its accounts' users), others their account's. */
export function userScopeOf(principal: Principal): AdminUserScope {
  return principal.role === 'PARTNER_ADMIN' ? { partnerId: principal.partnerId! } : { accountId: principal.accountId! };
}

/**
 * People management for admins. A caller never gives more than it has: only a partner admin creates partner
 * admins (of its own partner), account users go to an account the caller can see (TenantAccess), and a role
 * change stays between TENANT_ADMIN and READ_ONLY. A person cannot disable, demote or delete itself (no lock-out
 * by mistake). Users of other tenants answer 404, as missing ones.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: AdminUserRepository,
    private readonly access: TenantAccess,
  ) {}

  async list(principal: Principal, query: UserQueryDto): Promise<UserPageDto> {
    if (query.accountId) {
      await this.access.account(principal, query.accountId);
    }
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['email'] as const);
    const rows = await this.users.list(userScopeOf(principal), { accountId: query.accountId }, { afterEmail: after?.email, limit: limit + 1 });
    return toPage(rows, limit, (row) => ({ email: row.email }), toUserDto);
  }

  async get(principal: Principal, id: string): Promise<UserDto> {
    const user = await this.users.findInScope(userScopeOf(principal), id);
    if (!user) {
      throw ApiProblem.notFound('user', id);
    }
    return toUserDto(user);
  }

  async create(principal: Principal, dto: CreateUserDto): Promise<UserDto> {
    let owner: { partnerId: string | null; accountId: string | null };
    if (dto.role === 'PARTNER_ADMIN') {
      if (principal.role !== 'PARTNER_ADMIN') {
        throw new ApiProblem(403, ProblemCode.RoleNotAllowed, 'only partner admins may create partner admins');
      }
      if (dto.accountId !== undefined) {
        throw this.invalid('accountId', 'a partner admin belongs to the partner, not to an account: leave accountId out');
      }
      owner = { partnerId: principal.partnerId, accountId: null };
    } else {
      if (dto.accountId === undefined) {
        throw this.invalid('accountId', `a ${dto.role} user belongs to an account: accountId is required`);
      }
      await this.access.account(principal, dto.accountId);
      owner = { partnerId: null, accountId: dto.accountId };
    }
    const passwordHash = dto.password === undefined ? null : await this.passwordHash(dto.password, dto.email);
    try {
      const created = await this.users.create(
        { email: dto.email, displayName: dto.displayName.trim(), passwordHash, role: dto.role, locale: dto.locale, ...owner },
        actorOf(principal),
      );
      return toUserDto(created);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new ApiProblem(409, ProblemCode.Conflict, `a user ${dto.email.trim().toLowerCase()} exists already`);
      }
      throw error;
    }
  }

  async update(principal: Principal, id: string, dto: UpdateUserDto): Promise<UserDto> {
    const scope = userScopeOf(principal);
    const current = await this.users.findInScope(scope, id);
    if (!current) {
      throw ApiProblem.notFound('user', id);
    }
    const self = principal.kind === 'user' && principal.userId === id;
    if (self && (dto.disabled === true || (dto.role !== undefined && dto.role !== current.role))) {
      throw new ApiProblem(403, ProblemCode.RoleNotAllowed, 'you cannot disable or demote yourself: ask another admin');
    }
    if (dto.role !== undefined && current.role === 'PARTNER_ADMIN') {
      throw this.invalid('role', 'a partner admin stays a partner admin (create an account user instead)');
    }
    const passwordHash = dto.password === undefined ? undefined : await this.passwordHash(dto.password, current.email);
    const updated = await this.users.update(scope, id, { displayName: dto.displayName?.trim(), locale: dto.locale, role: dto.role, disabled: dto.disabled, passwordHash }, actorOf(principal));
    if (!updated) {
      throw ApiProblem.notFound('user', id);
    }
    return toUserDto(updated);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    if (principal.kind === 'user' && principal.userId === id) {
      throw new ApiProblem(403, ProblemCode.RoleNotAllowed, 'you cannot delete yourself: ask another admin');
    }
    if (!(await this.users.delete(userScopeOf(principal), id, actorOf(principal)))) {
      throw ApiProblem.notFound('user', id);
    }
  }

  private async passwordHash(password: string, email: string): Promise<string> {
    const problem = passwordProblem(password, email);
    if (problem) {
      throw this.invalid('password', problem, 'WEAK_PASSWORD');
    }
    return hashSecret(password);
  }

  private invalid(field: string, message: string, code = 'INVALID_VALUE'): ApiProblem {
    return new ApiProblem(400, ProblemCode.ValidationFailed, `${field}: ${message}`, [{ field, code, message }]);
  }
}
