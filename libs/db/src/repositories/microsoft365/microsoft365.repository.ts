import { Injectable } from '@nestjs/common';
import type {
  M365Connection,
  M365Remediation,
  M365RemediationAction,
  M365RemediationItem,
  M365RemediationItemStatus,
  M365RemediationStatus,
  M365SyncRun,
  M365SyncTrigger,
  Prisma,
} from '../../generated/prisma/client';
import { newestFirstAfter } from '../../pagination';
import { PrismaService } from '../../prisma.service';
import { AuditRepository, auditSnapshot } from '../audit/audit.repository';
import type { AuditActor } from '../audit/audit.types';
import { DirectoryRepository, type DirectoryChangeCounts, type DirectoryChangeSet } from '../directory/directory.repository';
import type { Db } from '../message/raw-message-store';

export type RemediationWithItems = M365Remediation & { items: M365RemediationItem[] };

/** Outbox topic of a finished remediation (the SIEM export turns it into an OCSF Remediation Activity). */
export const REMEDIATION_FINISHED_TOPIC = 'microsoft365.remediation.finished';

/** Item statuses after which a mailbox is not touched again by the same remediation. */
export const FINAL_ITEM_STATUSES: readonly M365RemediationItemStatus[] = ['COMPLETED', 'NOT_FOUND', 'ALREADY_IN_DESTINATION', 'FAILED'];

const connectionSnapshot = (connection: M365Connection | null) =>
  connection ? auditSnapshot({ tenantId: connection.tenantId, consentedAt: connection.consentedAt, consentedBy: connection.consentedBy }) : null;

/** Microsoft 365 connection, directory sync runs and remediations (clawback) of accounts; changes are audited. */
@Injectable()
export class Microsoft365Repository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  findConnection(accountId: string): Promise<M365Connection | null> {
    return this.prisma.m365Connection.findUnique({ where: { accountId } });
  }

  /** The account's Microsoft 365 tenant, if connected (`db`: a caller's transaction, e.g. a mode migration's). */
  async findTenantId(accountId: string, db: Db = this.prisma): Promise<string | null> {
    return (await db.m365Connection.findUnique({ where: { accountId }, select: { tenantId: true } }))?.tenantId ?? null;
  }

  listConnections(): Promise<M365Connection[]> {
    return this.prisma.m365Connection.findMany({ orderBy: { accountId: 'asc' } });
  }

  /**
   * Records the tenant an admin consented for, once per consent state. A tenant already connected to another account
   * is refused; a new tenant on the same account starts over with a full sync.
   */
  connect(accountId: string, tenantId: string, consent: { nonce: string; consentedBy: string }, actor: AuditActor): Promise<M365Connection | 'connected-elsewhere' | 'state-used'> {
    return this.prisma.$transaction(async (tx) => {
      // A consent state is good once: its nonce is kept (a second insert conflicts and nothing is written).
      const used = await tx.m365ConsentNonce.createMany({ data: [{ nonce: consent.nonce, accountId }], skipDuplicates: true });
      if (used.count === 0) {
        return 'state-used';
      }
      const elsewhere = await tx.m365Connection.findUnique({ where: { tenantId } });
      if (elsewhere && elsewhere.accountId !== accountId) {
        return 'connected-elsewhere';
      }
      const consentedBy = consent.consentedBy;
      const before = await tx.m365Connection.findUnique({ where: { accountId } });
      const sameTenant = before?.tenantId === tenantId;
      const connection = await tx.m365Connection.upsert({
        where: { accountId },
        create: { accountId, tenantId, consentedAt: new Date(), consentedBy },
        update: { tenantId, consentedAt: new Date(), consentedBy, ...(sameTenant ? {} : { usersDeltaLink: null, groupsDeltaLink: null }) },
      });
      if (!sameTenant) {
        await tx.m365DirectoryObject.deleteMany({ where: { accountId } });
      }
      await this.audit.append(
        { ...actor, accountId, action: 'microsoft365.consented', objectType: 'm365_connection', objectId: accountId, before: connectionSnapshot(before), after: connectionSnapshot(connection) },
        tx,
      );
      return connection;
    });
  }

  /** Removes the connection (synced mailboxes and groups stay, as ordinary ones); null when there was none. */
  disconnect(accountId: string, actor: AuditActor): Promise<M365Connection | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.m365Connection.findUnique({ where: { accountId } });
      if (!before) {
        return null;
      }
      await tx.m365Connection.delete({ where: { accountId } });
      await tx.m365DirectoryObject.deleteMany({ where: { accountId } });
      await this.audit.append({ ...actor, accountId, action: 'microsoft365.disconnected', objectType: 'm365_connection', objectId: accountId, before: connectionSnapshot(before) }, tx);
      return before;
    });
  }

  /** The mailbox address → Graph user id map of synced mailboxes (Graph addresses mailboxes by id or UPN). */
  async graphUserIds(accountId: string, emails: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.prisma.$queryRaw<Array<{ email: string; graph_id: string }>>`
      SELECT u.email, o.graph_id FROM m365_directory_object o JOIN mailbox_user u ON u.id = o.local_id
      WHERE o.account_id = ${accountId}::uuid AND o.kind = 'USER' AND u.email = ANY(${[...emails]}::text[])`;
    return new Map(rows.map((row) => [row.email, row.graph_id]));
  }

  /** Lower-case names of the account's domains: only their mailboxes can be in the connected tenant. */
  async accountDomainNames(accountId: string): Promise<Set<string>> {
    return new Set((await this.prisma.domain.findMany({ where: { accountId }, select: { name: true } })).map((domain) => domain.name));
  }

  /** Messages of the account by id (clawback from history), with what a remediation needs. */
  findMessages(accountId: string, messageIds: readonly string[]): Promise<Array<{ id: string; envelopeTo: string[]; messageIdHeader: string | null }>> {
    return this.prisma.message.findMany({ where: { accountId, id: { in: [...messageIds] } }, select: { id: true, envelopeTo: true, messageIdHeader: true } });
  }

  /** A remediation by id alone, for the worker (the job carries the id). */
  findRemediationForWork(remediationId: string): Promise<RemediationWithItems | null> {
    return this.prisma.m365Remediation.findUnique({ where: { id: remediationId }, include: { items: { orderBy: [{ recipient: 'asc' }, { messageId: 'asc' }] } } });
  }

  // ---- directory sync runs ----

  createSyncRun(accountId: string, trigger: M365SyncTrigger): Promise<M365SyncRun> {
    return this.prisma.m365SyncRun.create({ data: { accountId, trigger } });
  }

  findSyncRun(accountId: string, runId: string): Promise<M365SyncRun | null> {
    return this.prisma.m365SyncRun.findFirst({ where: { id: runId, accountId } });
  }

  listSyncRuns(accountId: string, page: { before?: { createdAt: Date; id: string }; limit: number }): Promise<M365SyncRun[]> {
    return this.prisma.m365SyncRun.findMany({
      where: {
        accountId,
        ...newestFirstAfter(page.before),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }

  markSyncRunning(runId: string, fullSync: boolean): Promise<M365SyncRun> {
    return this.prisma.m365SyncRun.update({ where: { id: runId }, data: { status: 'RUNNING', startedAt: new Date(), fullSync } });
  }

  failSyncRun(runId: string, error: string): Promise<M365SyncRun> {
    return this.prisma.m365SyncRun.update({ where: { id: runId }, data: { status: 'FAILED', error: error.slice(0, 2000), finishedAt: new Date() } });
  }

  /**
   * Applies a sync's changes, advances the delta links and closes the run, in one transaction: a failure leaves the
   * directory and the delta links as they were (the next run asks the same question again).
   */
  completeSync(
    run: Pick<M365SyncRun, 'id' | 'accountId'>,
    changes: DirectoryChangeSet,
    deltaLinks: { users: string | null; groups: string | null } | null,
    actor: AuditActor,
  ): Promise<DirectoryChangeCounts> {
    return this.prisma.$transaction(
      async (tx) => {
        // One sync of an account at a time: the second waits here and then applies on top of the first.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('m365-directory-sync'), hashtext(${run.accountId}))`;
        const counts = await this.directory.applyChanges(tx, run.accountId, changes);
        if (deltaLinks) {
          await tx.m365Connection.update({ where: { accountId: run.accountId }, data: { usersDeltaLink: deltaLinks.users, groupsDeltaLink: deltaLinks.groups, lastSyncAt: new Date() } });
        }
        await tx.m365SyncRun.update({ where: { id: run.id }, data: { status: 'SUCCEEDED', finishedAt: new Date(), ...counts } });
        await this.audit.append({ ...actor, accountId: run.accountId, action: 'directory.synced', objectType: 'm365_sync_run', objectId: run.id, after: auditSnapshot(counts) }, tx);
        return counts;
      },
      { timeout: 120_000 },
    );
  }

  // ---- remediations (clawback) ----

  createRemediation(
    accountId: string,
    input: {
      action: M365RemediationAction;
      criteria: Prisma.InputJsonValue;
      restoreOf?: string;
      items: Array<{ messageId: string; recipient: string; internetMessageId: string }>;
    },
    actor: AuditActor,
  ): Promise<RemediationWithItems> {
    return this.prisma.$transaction(async (tx) => {
      const remediation = await tx.m365Remediation.create({
        data: {
          accountId,
          action: input.action,
          criteria: input.criteria,
          restoreOf: input.restoreOf ?? null,
          requestedBy: actor.actor,
          requestedByKeyId: actor.actorKeyId,
          items: { createMany: { data: input.items, skipDuplicates: true } },
        },
        include: { items: { orderBy: [{ recipient: 'asc' }, { messageId: 'asc' }] } },
      });
      await this.audit.append(
        {
          ...actor,
          accountId,
          action: input.restoreOf ? 'remediation.restore_requested' : 'remediation.requested',
          objectType: 'm365_remediation',
          objectId: remediation.id,
          after: auditSnapshot({ action: input.action, criteria: input.criteria, restoreOf: input.restoreOf ?? null, mailboxes: remediation.items.length }),
        },
        tx,
      );
      return remediation;
    });
  }

  findRemediation(accountId: string, remediationId: string): Promise<RemediationWithItems | null> {
    return this.prisma.m365Remediation.findFirst({
      where: { id: remediationId, accountId },
      include: { items: { orderBy: [{ recipient: 'asc' }, { messageId: 'asc' }] } },
    });
  }

  listRemediations(accountId: string, page: { before?: { createdAt: Date; id: string }; limit: number }): Promise<M365Remediation[]> {
    return this.prisma.m365Remediation.findMany({
      where: {
        accountId,
        ...newestFirstAfter(page.before),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }

  /** Mailboxes per item status of each remediation. */
  async itemCounts(remediationIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
    const rows = await this.prisma.m365RemediationItem.groupBy({ by: ['remediationId', 'status'], where: { remediationId: { in: [...remediationIds] } }, _count: { _all: true } });
    const counts = new Map<string, Record<string, number>>();
    for (const row of rows) {
      counts.set(row.remediationId, { ...counts.get(row.remediationId), [row.status]: row._count._all });
    }
    return counts;
  }

  /** The remediations that touched one message, newest first, each with that message's items. */
  listRemediationsOfMessage(accountId: string, messageId: string): Promise<RemediationWithItems[]> {
    return this.prisma.m365Remediation.findMany({
      where: { accountId, items: { some: { messageId } } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      include: { items: { where: { messageId }, orderBy: { recipient: 'asc' } } },
    });
  }

  /** Remediations left QUEUED or IN_PROGRESS (a crashed worker's), to queue again at start. */
  async unfinishedRemediationIds(): Promise<Array<{ id: string; accountId: string }>> {
    return this.prisma.m365Remediation.findMany({ where: { status: { in: ['QUEUED', 'IN_PROGRESS'] } }, select: { id: true, accountId: true } });
  }

  /**
   * Takes (or renews) the remediation's lease for `owner`: true when no other worker holds an unexpired one. A stalled
   * BullMQ job handed out again while its first run is still alive finds the lease held and stays out.
   */
  async leaseRemediation(remediationId: string, owner: string, leaseMs: number): Promise<boolean> {
    const taken = await this.prisma.$executeRaw`
      UPDATE m365_remediation SET lease_owner = ${owner}, lease_until = now() + ${leaseMs} * interval '1 millisecond',
        status = CASE WHEN status = 'QUEUED' THEN 'IN_PROGRESS'::"M365RemediationStatus" ELSE status END, updated_at = now()
      WHERE id = ${remediationId}::uuid AND status IN ('QUEUED', 'IN_PROGRESS')
        AND (lease_owner IS NULL OR lease_owner = ${owner} OR lease_until < now())`;
    return taken === 1;
  }

  /** Marks an item in progress before Graph is called, so a resumed run knows it may already have acted. */
  startItem(itemId: string): Promise<M365RemediationItem> {
    return this.prisma.m365RemediationItem.update({ where: { id: itemId }, data: { status: 'IN_PROGRESS', attempts: { increment: 1 } } });
  }

  finishItem(itemId: string, outcome: { status: M365RemediationItemStatus; graphMessageId?: string | null; errorCode?: string | null; errorMessage?: string | null }): Promise<M365RemediationItem> {
    return this.prisma.m365RemediationItem.update({
      where: { id: itemId },
      data: { status: outcome.status, graphMessageId: outcome.graphMessageId ?? null, errorCode: outcome.errorCode ?? null, errorMessage: outcome.errorMessage?.slice(0, 1000) ?? null },
    });
  }

  /** Closes a remediation whose items are all final, with its overall status, and audits the outcome. */
  finishRemediation(remediationId: string): Promise<M365Remediation> {
    return this.prisma.$transaction(async (tx) => {
      const remediation = await tx.m365Remediation.findUniqueOrThrow({ where: { id: remediationId }, include: { items: { select: { status: true } } } });
      const counts: Record<string, number> = {};
      for (const item of remediation.items) {
        counts[item.status] = (counts[item.status] ?? 0) + 1;
      }
      const failed = counts.FAILED ?? 0;
      const status: M365RemediationStatus = failed === 0 ? 'COMPLETED' : failed === remediation.items.length ? 'FAILED' : 'COMPLETED_WITH_ERRORS';
      const updated = await tx.m365Remediation.update({ where: { id: remediationId }, data: { status, finishedAt: new Date(), leaseOwner: null, leaseUntil: null } });
      await this.audit.append(
        {
          actor: 'system:microsoft365-remediation',
          actorKeyId: null,
          accountId: remediation.accountId,
          action: 'remediation.finished',
          objectType: 'm365_remediation',
          objectId: remediationId,
          after: auditSnapshot({ status, items: counts }),
        },
        tx,
      );
      // The SIEM export's event, committed with the final status or not at all (DESIGN.md §6).
      await tx.outboxEvent.create({
        data: { topic: REMEDIATION_FINISHED_TOPIC, aggregateId: remediationId, accountId: remediation.accountId, payload: { remediationId, accountId: remediation.accountId } },
      });
      return updated;
    });
  }
}
