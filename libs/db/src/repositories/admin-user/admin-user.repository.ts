import { Injectable } from '@nestjs/common';
import type { AdminSession, AdminUser, ApiKeyRole, OidcLoginState, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { isUuid } from '../../uuid';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';

/** A user as admins and the user may see it: no password hash, no TOTP secret. */
export type AdminUserView = Omit<AdminUser, 'passwordHash' | 'totpSecret' | 'totpLastStep'> & { hasPassword: boolean };

/** Whose users a caller may see: one partner's (its partner admins and its accounts' users), one account's, or all. */
export type AdminUserScope = { partnerId: string } | { accountId: string } | { all: true };

export interface CreateAdminUserInput {
  email: string;
  displayName: string;
  passwordHash: string | null;
  role: ApiKeyRole;
  partnerId: string | null;
  accountId: string | null;
  locale?: string;
}

export interface AdminUserChange {
  displayName?: string;
  locale?: string;
  role?: ApiKeyRole;
  disabled?: boolean;
  passwordHash?: string;
}

export interface NewSession {
  tokenHash: string;
  userId: string;
  csrfToken: string;
  method: string;
  createdAt: Date;
  idleExpiresAt: Date;
  expiresAt: Date;
  clientAddress: string | null;
  userAgent: string | null;
}

/** Emails are stored trimmed and lower-cased, so equality is exact and the lower(email) unique index holds. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function adminUserView(user: AdminUser): AdminUserView {
  const { passwordHash, totpSecret: _secret, totpLastStep: _step, ...rest } = user;
  return { ...rest, hasPassword: passwordHash !== null };
}

function scopeWhere(scope: AdminUserScope): Prisma.AdminUserWhereInput {
  if ('all' in scope) {
    return {};
  }
  if ('accountId' in scope) {
    return { accountId: scope.accountId };
  }
  return { OR: [{ partnerId: scope.partnerId }, { account: { partnerId: scope.partnerId } }] };
}

/**
 * People who sign in (admin_user), their sessions and OpenID Connect sign-ins in flight. Changes to users are
 * audited in the same transaction; sign-ins and sign-outs are audited by the caller (it knows the method).
 */
@Injectable()
export class AdminUserRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  /** The partner of the account a user belongs to (audit entries carry it), or the user's own partner. */
  private async auditOwner(db: Prisma.TransactionClient, user: Pick<AdminUser, 'partnerId' | 'accountId'>): Promise<{ accountId: string | null; partnerId: string | null }> {
    if (user.accountId) {
      const account = await db.account.findUnique({ where: { id: user.accountId }, select: { partnerId: true } });
      return { accountId: user.accountId, partnerId: account?.partnerId ?? null };
    }
    return { accountId: null, partnerId: user.partnerId };
  }

  create(input: CreateAdminUserInput, actor: AuditActor): Promise<AdminUserView> {
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.adminUser.create({
        data: {
          email: normalizeEmail(input.email),
          displayName: input.displayName,
          passwordHash: input.passwordHash,
          role: input.role,
          partnerId: input.partnerId,
          accountId: input.accountId,
          locale: input.locale ?? 'en',
        },
      });
      const view = adminUserView(user);
      await this.audit.append(
        { ...actor, ...(await this.auditOwner(tx, user)), action: 'admin_user.created', objectType: 'admin_user', objectId: user.id, after: auditSnapshot(view) },
        tx,
      );
      return view;
    });
  }

  /** The row with its hashes, for sign-in; null when unknown. */
  findByEmailForAuth(email: string): Promise<AdminUser | null> {
    return this.prisma.adminUser.findFirst({ where: { email: normalizeEmail(email) } });
  }

  findById(id: string): Promise<AdminUser | null> {
    return isUuid(id) ? this.prisma.adminUser.findUnique({ where: { id } }) : Promise.resolve(null);
  }

  findByOidcSubject(issuer: string, subject: string): Promise<AdminUser | null> {
    return this.prisma.adminUser.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: issuer, oidcSubject: subject } } });
  }

  async findInScope(scope: AdminUserScope, id: string): Promise<AdminUserView | null> {
    const user = isUuid(id) ? await this.prisma.adminUser.findFirst({ where: { AND: [{ id }, scopeWhere(scope)] } }) : null;
    return user ? adminUserView(user) : null;
  }

  async list(scope: AdminUserScope, filter: { accountId?: string }, page: { afterEmail?: string; limit: number }): Promise<AdminUserView[]> {
    const users = await this.prisma.adminUser.findMany({
      where: { AND: [scopeWhere(scope), filter.accountId ? { accountId: filter.accountId } : {}, page.afterEmail ? { email: { gt: page.afterEmail } } : {}] },
      orderBy: { email: 'asc' },
      take: page.limit,
    });
    return users.map(adminUserView);
  }

  /**
   * Changes a user, audited with before and after; disabling it or changing its role or password ends its
   * sessions (in the same transaction). Null when the user is not in the scope.
   */
  update(scope: AdminUserScope, id: string, change: AdminUserChange, actor: AuditActor): Promise<AdminUserView | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = isUuid(id) ? await tx.adminUser.findFirst({ where: { AND: [{ id }, scopeWhere(scope)] } }) : null;
      if (!before) {
        return null;
      }
      const disabledAt = change.disabled === undefined ? before.disabledAt : change.disabled ? (before.disabledAt ?? new Date()) : null;
      const after = await tx.adminUser.update({
        where: { id },
        data: {
          displayName: change.displayName ?? before.displayName,
          locale: change.locale ?? before.locale,
          role: change.role ?? before.role,
          disabledAt,
          passwordHash: change.passwordHash ?? before.passwordHash,
        },
      });
      if ((disabledAt && !before.disabledAt) || after.role !== before.role || change.passwordHash !== undefined) {
        await tx.adminSession.deleteMany({ where: { userId: id } });
      }
      await this.audit.append(
        {
          ...actor,
          ...(await this.auditOwner(tx, before)),
          action: change.passwordHash !== undefined ? 'admin_user.password_set' : 'admin_user.updated',
          objectType: 'admin_user',
          objectId: id,
          before: auditSnapshot(adminUserView(before)),
          after: auditSnapshot(adminUserView(after)),
        },
        tx,
      );
      return adminUserView(after);
    });
  }

  /** Deletes a user of the scope (its sessions go with it), audited; null when not found. */
  delete(scope: AdminUserScope, id: string, actor: AuditActor): Promise<AdminUserView | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = isUuid(id) ? await tx.adminUser.findFirst({ where: { AND: [{ id }, scopeWhere(scope)] } }) : null;
      if (!before) {
        return null;
      }
      const owner = await this.auditOwner(tx, before);
      await tx.adminUser.delete({ where: { id } });
      await this.audit.append({ ...actor, ...owner, action: 'admin_user.deleted', objectType: 'admin_user', objectId: id, before: auditSnapshot(adminUserView(before)) }, tx);
      return adminUserView(before);
    });
  }

  /** Stores a new (not yet enabled) TOTP secret, sealed by the caller. */
  async setPendingTotpSecret(userId: string, sealedSecret: string): Promise<void> {
    await this.prisma.adminUser.update({ where: { id: userId }, data: { totpSecret: sealedSecret, totpEnabledAt: null, totpLastStep: null } });
  }

  /**
   * Records `step` as the last TOTP step used, only if it is newer than the last one: false when the code was
   * already used (a replay), so a code is good once even when two requests race.
   */
  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const claimed = await this.prisma.adminUser.updateMany({
      where: { id: userId, OR: [{ totpLastStep: null }, { totpLastStep: { lt: BigInt(step) } }] },
      data: { totpLastStep: BigInt(step) },
    });
    return claimed.count === 1;
  }

  /** Turns TOTP on (enabled) or off (secret removed), audited with the person as actor. */
  setTotpEnabled(userId: string, enabled: boolean, actor: AuditActor): Promise<AdminUserView> {
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.adminUser.update({
        where: { id: userId },
        data: enabled ? { totpEnabledAt: new Date() } : { totpEnabledAt: null, totpSecret: null, totpLastStep: null },
      });
      await this.audit.append(
        { ...actor, ...(await this.auditOwner(tx, user)), action: enabled ? 'admin_user.totp_enabled' : 'admin_user.totp_disabled', objectType: 'admin_user', objectId: userId },
        tx,
      );
      return adminUserView(user);
    });
  }

  /** Links an OpenID Connect identity (issuer, subject) to the user, audited. */
  linkOidc(userId: string, issuer: string, subject: string, actor: AuditActor): Promise<AdminUser> {
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.adminUser.update({ where: { id: userId }, data: { oidcIssuer: issuer, oidcSubject: subject } });
      await this.audit.append(
        { ...actor, ...(await this.auditOwner(tx, user)), action: 'admin_user.oidc_linked', objectType: 'admin_user', objectId: userId, after: { issuer, subject } },
        tx,
      );
      return user;
    });
  }

  /** Appends an audit entry about the user (sign-in, sign-out), with its account and partner. */
  async auditUserEvent(user: Pick<AdminUser, 'id' | 'partnerId' | 'accountId'>, action: string, actor: AuditActor, after?: Prisma.InputJsonValue): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await this.audit.append({ ...actor, ...(await this.auditOwner(tx, user)), action, objectType: 'admin_user', objectId: user.id, after: after ?? null }, tx);
    });
  }

  // ---- sessions ----

  createSession(session: NewSession): Promise<AdminSession> {
    return this.prisma.adminSession.create({ data: { ...session, lastSeenAt: session.createdAt } });
  }

  /** The session of a token hash with its user, if it has not expired (idle or absolute) at `now`. */
  findLiveSession(tokenHash: string, now: Date): Promise<(AdminSession & { user: AdminUser }) | null> {
    return this.prisma.adminSession.findFirst({
      where: { tokenHash, expiresAt: { gt: now }, idleExpiresAt: { gt: now } },
      include: { user: true },
    });
  }

  /** Moves the idle expiry on (never past the absolute one). */
  async touchSession(id: string, now: Date, idleExpiresAt: Date): Promise<void> {
    await this.prisma.adminSession.updateMany({ where: { id }, data: { lastSeenAt: now, idleExpiresAt } });
  }

  findSessionById(id: string): Promise<AdminSession | null> {
    return this.prisma.adminSession.findUnique({ where: { id } });
  }

  async deleteSession(id: string): Promise<void> {
    await this.prisma.adminSession.deleteMany({ where: { id } });
  }

  /** Ends every session of the user; returns how many. */
  async deleteSessionsOfUser(userId: string): Promise<number> {
    return (await this.prisma.adminSession.deleteMany({ where: { userId } })).count;
  }

  /** Removes sessions past their expiry (housekeeping; expired ones are never accepted anyway). */
  async deleteExpiredSessions(now: Date): Promise<number> {
    const idle = await this.prisma.adminSession.deleteMany({ where: { OR: [{ expiresAt: { lte: now } }, { idleExpiresAt: { lte: now } }] } });
    await this.prisma.oidcLoginState.deleteMany({ where: { expiresAt: { lte: now } } });
    return idle.count;
  }

  // ---- OpenID Connect sign-ins in flight ----

  async saveOidcState(state: Omit<OidcLoginState, 'createdAt'>): Promise<void> {
    await this.prisma.oidcLoginState.create({ data: state });
  }

  /** Takes (deletes and returns) the sign-in of a state: a state is good once. Null when unknown or expired. */
  async takeOidcState(state: string, now: Date): Promise<OidcLoginState | null> {
    const row = await this.prisma.oidcLoginState.findUnique({ where: { state } });
    // Only the request whose delete removed the row may use it (two callbacks racing with one state: one wins).
    const taken = row ? (await this.prisma.oidcLoginState.deleteMany({ where: { state } })).count === 1 : false;
    return row && taken && row.expiresAt > now ? row : null;
  }
}
