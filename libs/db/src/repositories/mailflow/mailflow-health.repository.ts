import { Injectable } from '@nestjs/common';
import type { DomainMailflowStatus, M365MailflowSettings, MailflowAlert, MailflowQuickTest, MessageSource, DeliveryState, ScanStatus, Prisma } from '../../generated/prisma/client';
import { newestFirstAfter } from '../../pagination';
import { PrismaService } from '../../prisma.service';
import type { AuditActor } from '../audit/audit.types';
import { AuditRepository } from '../audit/audit.repository';

type Db = PrismaService | Prisma.TransactionClient;

/** JSON with object keys sorted at every level (two values equal as jsonb give the same string). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
}

/** Outbox topic of a mailflow tamper alert (libs/export turns it into an OCSF Detection Finding). */
export const MAILFLOW_ALERT_TOPIC = 'microsoft365.mailflow.alert';

export interface MailflowMessageSighting {
  id: string;
  source: MessageSource;
  receivedAt: Date;
  scanStatus: ScanStatus;
  deliveryState: DeliveryState;
  /** Last downstream error of a copy that did not reach Exchange Online. */
  lastError: string | null;
}

/**
 * Microsoft 365 mailflow health of accounts (issue 16): the quick tests through Exchange Online with their hops,
 * the per-account Exchange Online endpoint they use, the tamper check's per-domain status and its alerts.
 */
@Injectable()
export class MailflowHealthRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
  ) {}

  findSettings(accountId: string): Promise<M365MailflowSettings | null> {
    return this.prisma.m365MailflowSettings.findUnique({ where: { accountId } });
  }

  async setSettings(accountId: string, settings: { exchangeSmtpHost: string | null; exchangeSmtpPort: number }, actor: AuditActor): Promise<M365MailflowSettings> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.m365MailflowSettings.findUnique({ where: { accountId } });
      const after = await tx.m365MailflowSettings.upsert({ where: { accountId }, create: { accountId, ...settings }, update: settings });
      await this.audit.append(
        {
          ...actor,
          accountId,
          action: 'microsoft365.mailflow_settings.updated',
          objectType: 'm365_mailflow_settings',
          objectId: accountId,
          before: before ? { exchangeSmtpHost: before.exchangeSmtpHost, exchangeSmtpPort: before.exchangeSmtpPort } : null,
          after: { exchangeSmtpHost: after.exchangeSmtpHost, exchangeSmtpPort: after.exchangeSmtpPort },
        },
        tx,
      );
      return after;
    });
  }

  createQuickTest(data: Prisma.MailflowQuickTestUncheckedCreateInput, db: Db = this.prisma): Promise<MailflowQuickTest> {
    return db.mailflowQuickTest.create({ data });
  }

  findQuickTest(id: string): Promise<MailflowQuickTest | null> {
    return this.prisma.mailflowQuickTest.findUnique({ where: { id } });
  }

  updateQuickTest(id: string, data: Prisma.MailflowQuickTestUncheckedUpdateInput): Promise<MailflowQuickTest> {
    return this.prisma.mailflowQuickTest.update({ where: { id }, data });
  }

  /** The newest quick test of one of these domains created at or after `since`. */
  latestQuickTest(accountId: string, domainIds: string[], since: Date, db: Db = this.prisma): Promise<MailflowQuickTest | null> {
    return db.mailflowQuickTest.findFirst({ where: { accountId, domainId: { in: domainIds }, createdAt: { gte: since } }, orderBy: { createdAt: 'desc' } });
  }

  /** A mailbox of the domain Mailwarden knows (synced from the directory), for the quick test's recipient. */
  async firstMailbox(accountId: string, domain: string): Promise<string | null> {
    const user = await this.prisma.user.findFirst({ where: { accountId, email: { endsWith: `@${domain.toLowerCase()}` } }, orderBy: { email: 'asc' }, select: { email: true } });
    return user?.email ?? null;
  }

  /** The account's stored message with this Message-ID field (newest first), with where its delivery stands. */
  async findMessage(accountId: string, messageIdHeader: string): Promise<MailflowMessageSighting | null> {
    const message = await this.prisma.message.findFirst({
      where: { accountId, messageIdHeader },
      orderBy: { receivedAt: 'desc' },
      select: { id: true, source: true, receivedAt: true, scanStatus: true, deliveryState: true },
    });
    if (!message) {
      return null;
    }
    const copy = await this.prisma.recipientDelivery.findFirst({ where: { messageId: message.id, lastError: { not: null } }, select: { lastError: true } });
    return { ...message, lastError: copy?.lastError ?? null };
  }

  // ---- tamper check ----

  listDomainStatus(accountId: string): Promise<DomainMailflowStatus[]> {
    return this.prisma.domainMailflowStatus.findMany({ where: { accountId } });
  }

  findDomainStatus(domainId: string): Promise<DomainMailflowStatus | null> {
    return this.prisma.domainMailflowStatus.findUnique({ where: { domainId } });
  }

  /** Newest first, keyset-paged on (createdAt, id). */
  listAlerts(accountId: string, page: { before?: { createdAt: Date; id: string }; limit: number }): Promise<MailflowAlert[]> {
    return this.prisma.mailflowAlert.findMany({
      where: { accountId, ...newestFirstAfter(page.before) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }

  /**
   * Records one tamper-check outcome for the account's mailflow domains. Only a change of health writes an alert
   * (TAMPER_DETECTED when a domain turns DEGRADED or its differences change, TAMPER_CLEARED when it is HEALTHY
   * again), with its audit entry and outbox row in the same transaction; an unchanged outcome only moves
   * `lastCheckedAt`. Returns the alert written, if any.
   */
  async recordCheck(
    accountId: string,
    domains: Array<{ id: string; name: string }>,
    differences: Prisma.InputJsonValue[],
    checkedAt: Date,
  ): Promise<MailflowAlert | null> {
    return this.prisma.$transaction(async (tx) => {
      // One check at a time per account decides whether the health changed.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`mailflow-health:${accountId}`}))`;
      const status = differences.length > 0 ? 'DEGRADED' : 'HEALTHY';
      const before = new Map((await tx.domainMailflowStatus.findMany({ where: { accountId, domainId: { in: domains.map((domain) => domain.id) } } })).map((row) => [row.domainId, row]));
      const changed: string[] = [];
      // jsonb stores keys in its own order: compare key-sorted forms.
      const fingerprint = canonicalJson(differences);
      for (const domain of domains) {
        const previous = before.get(domain.id);
        const same = previous && previous.status === status && canonicalJson(previous.differences) === fingerprint;
        if (!same && (previous || status === 'DEGRADED')) {
          changed.push(domain.name);
        }
        await tx.domainMailflowStatus.upsert({
          where: { domainId: domain.id },
          create: { domainId: domain.id, accountId, status, since: checkedAt, lastCheckedAt: checkedAt, differences },
          update: { status, lastCheckedAt: checkedAt, differences, ...(previous?.status === status ? {} : { since: checkedAt }) },
        });
      }
      if (changed.length === 0) {
        return null;
      }
      const kind = status === 'DEGRADED' ? 'TAMPER_DETECTED' : 'TAMPER_CLEARED';
      const alert = await tx.mailflowAlert.create({ data: { accountId, kind, differences, domains: changed } });
      await this.audit.append(
        {
          actor: 'system:mailflow-tamper-check',
          actorKeyId: null,
          accountId,
          action: kind === 'TAMPER_DETECTED' ? 'microsoft365.mailflow.tamper_detected' : 'microsoft365.mailflow.tamper_cleared',
          objectType: 'mailflow_alert',
          objectId: alert.id,
          before: { status: [...before.values()].map((row) => ({ domainId: row.domainId, status: row.status })) },
          after: { status, domains: changed, differences },
        },
        tx,
      );
      await tx.outboxEvent.create({
        data: { topic: MAILFLOW_ALERT_TOPIC, aggregateId: alert.id, accountId, payload: { alertId: alert.id, accountId, kind, domains: changed, differences, createdAt: alert.createdAt.toISOString() } },
      });
      return alert;
    });
  }
}
