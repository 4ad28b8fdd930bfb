import { Injectable } from '@nestjs/common';
import type { DkimKey, DkimKeyAlgorithm, Prisma } from '../../generated/prisma/client';
import { newestFirstAfter } from '../../pagination';
import { PrismaService } from '../../prisma.service';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';

/** A DKIM key as it may be shown or audited: everything but the (encrypted) private key. */
export type DkimKeyPublic = Omit<DkimKey, 'encryptedPrivateKey'>;

/** The key that signs a domain's outbound mail, with what the signer needs. */
export interface DkimSigningKeyRow {
  id: string;
  accountId: string;
  domain: string;
  selector: string;
  encryptedPrivateKey: string;
}

/** Keyset position of a domain's key list (newest first). */
export interface DkimKeyPageKey {
  createdAt: string;
  id: string;
}

const PUBLIC_FIELDS = {
  id: true,
  accountId: true,
  domainId: true,
  selector: true,
  algorithm: true,
  dnsRecord: true,
  status: true,
  lastCheckAt: true,
  lastCheck: true,
  activatedAt: true,
  retiredAt: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.DkimKeySelect;

/**
 * DKIM signing keys per tenant domain (issue 16). Reads for the admin API never select the private key; the one
 * read that does (`findSigningKey`) is the scanner's, for an ACTIVE key of a VERIFIED domain of the account.
 * Every change commits together with its audit entry, which never carries the private key either.
 */
@Injectable()
export class DkimKeyRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  list(accountId: string, domainId: string, page: { after?: DkimKeyPageKey; limit: number }): Promise<DkimKeyPublic[]> {
    const after = page.after;
    return this.prisma.dkimKey.findMany({
      select: PUBLIC_FIELDS,
      where: {
        accountId,
        domainId,
        ...newestFirstAfter(after ? { createdAt: new Date(after.createdAt), id: after.id } : undefined),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }

  find(accountId: string, domainId: string, keyId: string): Promise<DkimKeyPublic | null> {
    return this.prisma.dkimKey.findFirst({ select: PUBLIC_FIELDS, where: { id: keyId, accountId, domainId } });
  }

  /** Stores a new PENDING_DNS key; a selector the domain has used before fails with P2002. */
  create(
    input: { id: string; accountId: string; domainId: string; selector: string; algorithm: DkimKeyAlgorithm; dnsRecord: string; encryptedPrivateKey: string },
    actor: AuditActor,
  ): Promise<DkimKeyPublic> {
    return this.prisma.$transaction(async (tx) => {
      const created = await tx.dkimKey.create({ select: PUBLIC_FIELDS, data: { ...input, status: 'PENDING_DNS' } });
      await this.audit.append({ ...actor, accountId: input.accountId, action: 'dkim_key.created', objectType: 'dkim_key', objectId: created.id, after: auditSnapshot(created) }, tx);
      return created;
    });
  }

  /**
   * Records a DNS check of the key's record. `matched` activates a PENDING_DNS key (never a RETIRED one: a retired
   * selector stays retired); the row is locked so two checks cannot both activate it.
   */
  recordCheck(accountId: string, domainId: string, keyId: string, check: { matched: boolean; evidence: Prisma.InputJsonValue }, actor: AuditActor): Promise<DkimKeyPublic | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT "id" FROM "dkim_key" WHERE "id" = ${keyId}::uuid FOR UPDATE`;
      const before = await tx.dkimKey.findFirst({ select: PUBLIC_FIELDS, where: { id: keyId, accountId, domainId } });
      if (!before) {
        return null;
      }
      const activate = check.matched && before.status === 'PENDING_DNS';
      const now = new Date();
      const after = await tx.dkimKey.update({
        select: PUBLIC_FIELDS,
        where: { id: keyId },
        data: { lastCheckAt: now, lastCheck: check.evidence, ...(activate ? { status: 'ACTIVE', activatedAt: now } : {}) },
      });
      await this.audit.append(
        { ...actor, accountId, action: activate ? 'dkim_key.activated' : 'dkim_key.checked', objectType: 'dkim_key', objectId: keyId, before: auditSnapshot(before), after: auditSnapshot(after) },
        tx,
      );
      return after;
    });
  }

  /** Retires a key: it signs nothing from now on (its record may then be removed from DNS). Retiring twice keeps the first date. */
  retire(accountId: string, domainId: string, keyId: string, actor: AuditActor): Promise<DkimKeyPublic | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT "id" FROM "dkim_key" WHERE "id" = ${keyId}::uuid FOR UPDATE`;
      const before = await tx.dkimKey.findFirst({ select: PUBLIC_FIELDS, where: { id: keyId, accountId, domainId } });
      if (!before) {
        return null;
      }
      if (before.status === 'RETIRED') {
        return before;
      }
      const after = await tx.dkimKey.update({ select: PUBLIC_FIELDS, where: { id: keyId }, data: { status: 'RETIRED', retiredAt: new Date() } });
      await this.audit.append({ ...actor, accountId, action: 'dkim_key.retired', objectType: 'dkim_key', objectId: keyId, before: auditSnapshot(before), after: auditSnapshot(after) }, tx);
      return after;
    });
  }

  /**
   * The key that signs mail from `domainName` for the account: the most recently activated ACTIVE key of that
   * domain, and only while the domain is VERIFIED in this account. Null when there is none (the mail goes unsigned).
   */
  async findSigningKey(accountId: string, domainName: string): Promise<DkimSigningKeyRow | null> {
    const key = await this.prisma.dkimKey.findFirst({
      select: { id: true, accountId: true, selector: true, encryptedPrivateKey: true, domainId: true },
      where: { accountId, status: 'ACTIVE', domainId: { in: await this.verifiedDomainIds(accountId, domainName) } },
      orderBy: [{ activatedAt: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }],
    });
    return key ? { id: key.id, accountId: key.accountId, domain: domainName, selector: key.selector, encryptedPrivateKey: key.encryptedPrivateKey } : null;
  }

  private async verifiedDomainIds(accountId: string, domainName: string): Promise<string[]> {
    const domains = await this.prisma.domain.findMany({ select: { id: true }, where: { accountId, name: domainName, verificationStatus: 'VERIFIED' } });
    return domains.map((domain) => domain.id);
  }
}
