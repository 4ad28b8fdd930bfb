import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Domain, DomainMode, MailflowConnector, Prisma, VerificationStatus } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';
import { isUuid } from '../../uuid';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';
import type { Db } from '../message/raw-message-store';
import type { DomainNameKey, DownstreamRoute } from './domain.types';

/**
 * An account's domains and its Microsoft 365 connector: the admin API's changes (each write commits with its audit
 * entry) and the mode changes of libs/accounts (inside the account row lock, `AccountRepository.withAccountLock`).
 * The gateway's lookup of a recipient's domain is the message path's (`DeliveryRepository.findRecipientDomain`).
 */
@Injectable()
export class DomainRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  list(accountId: string, page: { after?: DomainNameKey; limit: number }): Promise<Domain[]> {
    return this.prisma.domain.findMany({
      where: { accountId, ...(page.after ? { name: { gt: page.after.name } } : {}) },
      orderBy: { name: 'asc' },
      take: page.limit,
    });
  }

  find(accountId: string, domainId: string): Promise<Domain | null> {
    return this.prisma.domain.findFirst({ where: { id: domainId, accountId } });
  }

  /** A domain of any account by id (mode changes look up the account from it). */
  findById(domainId: string): Promise<Domain | null> {
    return isUuid(domainId) ? this.prisma.domain.findUnique({ where: { id: domainId } }) : Promise.resolve(null);
  }

  /** The account's own row of that name (other accounts may have added it too, unverified). */
  findByName(tx: Prisma.TransactionClient, accountId: string, name: string): Promise<Domain | null> {
    return tx.domain.findUnique({ where: { accountId_name: { accountId, name } } });
  }

  /** Every domain of the account, by name, read in the caller's transaction (the mode rules look at all of them). */
  listAll(tx: Prisma.TransactionClient, accountId: string): Promise<Domain[]> {
    return tx.domain.findMany({ where: { accountId }, orderBy: { name: 'asc' } });
  }

  listVerifiedNames(accountId: string): Promise<string[]> {
    if (!isUuid(accountId)) {
      return Promise.resolve([]);
    }
    return this.prisma.domain
      .findMany({ where: { accountId, verificationStatus: 'VERIFIED' }, select: { name: true }, orderBy: { name: 'asc' } })
      .then((rows) => rows.map((row) => row.name));
  }

  /** The one write of a domain's mode (and of the other mode it also accepts mail on during a migration). */
  updateMode(tx: Prisma.TransactionClient, domainId: string, change: { mode?: DomainMode; transitionMode?: DomainMode | null }): Promise<Domain> {
    return tx.domain.update({ where: { id: domainId }, data: change });
  }

  /**
   * Adds a domain (PENDING verification, with a fresh TXT token). Other accounts may hold the same name unverified
   * (only verification claims it); a concurrent add of the same name to the same account fails with P2002.
   */
  create(input: { accountId: string; partnerId: string | null; name: string; mode: DomainMode }, actor: AuditActor): Promise<Domain> {
    return this.prisma.$transaction(async (tx) => {
      const domain = await tx.domain.create({
        data: {
          accountId: input.accountId,
          name: input.name,
          mode: input.mode,
          verificationToken: `mailwarden-verification=${randomBytes(16).toString('hex')}`,
        },
      });
      await this.audit.append(
        { ...actor, accountId: input.accountId, partnerId: input.partnerId, action: 'domain.added', objectType: 'domain', objectId: domain.id, after: auditSnapshot(domain) },
        tx,
      );
      return domain;
    });
  }

  /** Records the outcome of a verification attempt. */
  setVerification(accountId: string, domainId: string, status: VerificationStatus, actor: AuditActor, evidence: Prisma.InputJsonValue): Promise<Domain | null> {
    return this.update(accountId, domainId, actor, 'domain.verification_checked', (before) => ({
      verificationStatus: status,
      verifiedAt: status === 'VERIFIED' ? (before.verifiedAt ?? new Date()) : before.verifiedAt,
    }), evidence);
  }

  setDownstream(accountId: string, domainId: string, route: DownstreamRoute, actor: AuditActor): Promise<Domain | null> {
    return this.update(accountId, domainId, actor, 'domain.downstream_set', () => ({
      downstreamHost: route.host,
      downstreamPort: route.port,
      downstreamRequireTls: route.requireTls,
      downstreamVerifyCert: route.verifyCert,
    }));
  }

  remove(accountId: string, domainId: string, actor: AuditActor): Promise<Domain | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.domain.findFirst({ where: { id: domainId, accountId } });
      if (!before) {
        return null;
      }
      await tx.domain.delete({ where: { id: domainId } });
      await this.audit.append(
        { ...actor, accountId, action: 'domain.removed', objectType: 'domain', objectId: domainId, before: auditSnapshot(before) },
        tx,
      );
      return before;
    });
  }

  /** The account's Microsoft 365 connector (`db`: a caller's transaction, e.g. a mode migration's). */
  findConnector(accountId: string, db: Db = this.prisma): Promise<MailflowConnector | null> {
    return db.mailflowConnector.findUnique({ where: { accountId } });
  }

  /** Registers (or replaces) the account's Microsoft 365 connector, with its audit entry. */
  saveConnector(accountId: string, connector: { sourceIps: string[]; tlsCertName: string | null }, actor: AuditActor): Promise<MailflowConnector> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.mailflowConnector.findUnique({ where: { accountId } });
      const after = await tx.mailflowConnector.upsert({ where: { accountId }, create: { accountId, ...connector }, update: connector });
      await this.audit.append(
        { ...actor, accountId, action: 'mailflow_connector.saved', objectType: 'mailflow_connector', objectId: accountId, before: before ? auditSnapshot(before) : null, after: auditSnapshot(after) },
        tx,
      );
      return after;
    });
  }

  /**
   * Removes the account's connector unless a domain still takes mail through it (mode or transition MAILFLOW):
   * `in-use` names those domains. The check and the delete run under the account row lock.
   */
  removeConnector(accountId: string, actor: AuditActor): Promise<{ removed: MailflowConnector } | { inUse: string[] } | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT "id" FROM "account" WHERE "id" = ${accountId}::uuid FOR UPDATE`;
      const before = await tx.mailflowConnector.findUnique({ where: { accountId } });
      if (!before) {
        return null;
      }
      const inUse = await tx.domain.findMany({ where: { accountId, OR: [{ mode: 'MAILFLOW' }, { transitionMode: 'MAILFLOW' }] }, select: { name: true }, orderBy: { name: 'asc' } });
      if (inUse.length > 0) {
        return { inUse: inUse.map((domain) => domain.name) };
      }
      await tx.mailflowConnector.delete({ where: { accountId } });
      await this.audit.append({ ...actor, accountId, action: 'mailflow_connector.removed', objectType: 'mailflow_connector', objectId: accountId, before: auditSnapshot(before) }, tx);
      return { removed: before };
    });
  }

  private update(
    accountId: string,
    domainId: string,
    actor: AuditActor,
    action: string,
    change: (before: Domain) => Prisma.DomainUpdateInput,
    evidence?: Prisma.InputJsonValue,
  ): Promise<Domain | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.domain.findFirst({ where: { id: domainId, accountId } });
      if (!before) {
        return null;
      }
      const after = await tx.domain.update({ where: { id: domainId }, data: change(before) });
      const snapshot = auditSnapshot(after) as Record<string, unknown>;
      await this.audit.append(
        {
          ...actor,
          accountId,
          action,
          objectType: 'domain',
          objectId: domainId,
          before: auditSnapshot(before),
          after: (evidence === undefined ? snapshot : { ...snapshot, evidence }) as Prisma.InputJsonValue,
        },
        tx,
      );
      return after;
    });
  }
}
