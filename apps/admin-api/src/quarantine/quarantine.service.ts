import { Injectable, Logger } from '@nestjs/common';
import { QuarantineRepository, type QuarantineItem, type QuarantineItemWithMessage } from '@mailwarden/db';
import { DeliveryJob, JobQueues } from '@mailwarden/queue';
import { createdAtAfter, createdAtCursor } from '../accounts/accounts.service';
import { pageLimit, toPage, type Page } from '../common/cursor';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { PoliciesService, type SenderList } from '../policies/policies.service';
import type { BulkQuarantineOutcomeDto } from './dto/bulk-quarantine-outcome.dto';
import type { QuarantineItemDto, QuarantineItemStatus } from './dto/quarantine-item.dto';
import type { QuarantineListedSenderDto } from './dto/quarantine-listed-sender.dto';
import type { QuarantineReasonDto } from './dto/quarantine-reason.dto';
import type { QuarantineQueryDto } from './dto/quarantine-query.dto';

const LABELS: Record<QuarantineItemStatus, string> = {
  HELD: 'held',
  RELEASED: 'released',
  DELETED: 'deleted',
  WOULD_HAVE_BEEN_QUARANTINED: 'would have been quarantined',
};

const DAY_MS = 86_400_000;

/**
 * When the retention run expires the item (README "Retention"): its own expiry, or `quarantineDays` after it was made
 * (the tenant's retention policy) if sooner.
 */
function effectiveExpiry(item: QuarantineItem, quarantineDays: number): Date {
  const byWindow = item.createdAt.getTime() + quarantineDays * DAY_MS;
  return new Date(item.expiresAt ? Math.min(item.expiresAt.getTime(), byWindow) : byWindow);
}

function toItemDto(item: QuarantineItemWithMessage, quarantineDays: number): QuarantineItemDto {
  // A monitor-only item was never held (DESIGN.md §2): its row says HELD only because nothing ever changed it.
  const status: QuarantineItemStatus = item.enforced ? item.status : 'WOULD_HAVE_BEEN_QUARANTINED';
  const reasons = Array.isArray(item.verdict.reasons) ? (item.verdict.reasons as unknown as QuarantineReasonDto[]) : [];
  return {
    id: item.id,
    messageId: item.messageId,
    recipient: item.recipient,
    reason: item.reason,
    reasons: reasons.map((reason) => ({ kind: reason.kind, source: reason.source, action: reason.action, detail: reason.detail })),
    status,
    label: LABELS[status],
    enforced: item.enforced,
    createdAt: item.createdAt.toISOString(),
    releasedAt: item.releasedAt?.toISOString() ?? null,
    expiresAt: effectiveExpiry(item, quarantineDays).toISOString(),
    message: {
      id: item.message.id,
      envelopeFrom: item.message.envelopeFrom,
      headerFrom: item.message.headerFrom,
      subject: item.message.subject,
      messageIdHeader: item.message.messageIdHeader,
      receivedAt: item.message.receivedAt.toISOString(),
    },
  };
}

type Action = 'release' | 'delete';

/**
 * Why an item cannot take the action, or null when it can (or already did: both actions are idempotent). A HELD item
 * past its effective expiry (`quarantineDays` of the tenant, as the purge applies it) is no longer released, even
 * before the retention run has deleted it: what the console says has expired stays expired.
 */
function refusal(item: QuarantineItem, action: Action, quarantineDays: number, now = Date.now()): { outcome: BulkQuarantineOutcomeDto['outcome']; problem: ApiProblem } | null {
  if (!item.enforced) {
    return {
      outcome: 'NOT_ENFORCED',
      problem: new ApiProblem(
        409,
        ProblemCode.QuarantineNotEnforced,
        `item ${item.id} was recorded in monitor-only: the message was never held by Mailwarden (your mail system delivered it), so there is nothing to ${action}`,
      ),
    };
  }
  if (action === 'release' && item.status === 'DELETED') {
    return { outcome: 'ALREADY_DELETED', problem: new ApiProblem(409, ProblemCode.QuarantineItemDeleted, `item ${item.id} was deleted and cannot be released`) };
  }
  if (action === 'release' && item.status === 'HELD') {
    const expiry = effectiveExpiry(item, quarantineDays);
    if (expiry.getTime() <= now) {
      return {
        outcome: 'EXPIRED',
        problem: new ApiProblem(410, ProblemCode.QuarantineItemExpired, `item ${item.id} expired at ${expiry.toISOString()} (the tenant's quarantine window): it can be deleted, not released`),
      };
    }
  }
  if (action === 'delete' && item.status === 'RELEASED') {
    return { outcome: 'ALREADY_RELEASED', problem: new ApiProblem(409, ProblemCode.QuarantineItemReleased, `item ${item.id} was already released and delivered`) };
  }
  return null;
}

@Injectable()
export class QuarantineService {
  private readonly logger = new Logger(QuarantineService.name);

  constructor(
    private readonly quarantine: QuarantineRepository,
    private readonly access: TenantAccess,
    private readonly policies: PoliciesService,
    private readonly queues: JobQueues,
  ) {}

  /** The account (visible to the principal) and its retention's quarantineDays. */
  private async quarantineDays(principal: Principal, accountId: string): Promise<number> {
    const account = await this.access.account(principal, accountId);
    return (await this.policies.retentionOf(account)).quarantineDays;
  }

  async list(principal: Principal, accountId: string, query: QuarantineQueryDto): Promise<Page<QuarantineItemDto>> {
    const quarantineDays = await this.quarantineDays(principal, accountId);
    const limit = pageLimit(query.limit);
    // HELD means held by Mailwarden: monitor-only items are asked for as WOULD_HAVE_BEEN_QUARANTINED.
    const monitorOnly = query.status === 'WOULD_HAVE_BEEN_QUARANTINED';
    const enforced = monitorOnly ? (query.enforced === true ? undefined : false) : query.status === 'HELD' ? (query.enforced === false ? undefined : true) : query.enforced;
    const impossible = (monitorOnly && query.enforced === true) || (query.status === 'HELD' && query.enforced === false);
    const rows = await this.quarantine.list(
      accountId,
      { status: query.status === 'WOULD_HAVE_BEEN_QUARANTINED' ? undefined : query.status, enforced: impossible ? undefined : enforced, recipient: query.recipient, none: impossible },
      { after: createdAtAfter(query.cursor), limit: limit + 1 },
    );
    return toPage(rows, limit, createdAtCursor, (row) => toItemDto(row, quarantineDays));
  }

  async release(principal: Principal, accountId: string, itemId: string): Promise<QuarantineItemDto> {
    const quarantineDays = await this.quarantineDays(principal, accountId);
    const outcome = await this.apply(principal, accountId, itemId, 'release', quarantineDays);
    if (outcome.problem) {
      throw outcome.problem;
    }
    return toItemDto(outcome.item!, quarantineDays);
  }

  async remove(principal: Principal, accountId: string, itemId: string): Promise<QuarantineItemDto> {
    const quarantineDays = await this.quarantineDays(principal, accountId);
    const outcome = await this.apply(principal, accountId, itemId, 'delete', quarantineDays);
    if (outcome.problem) {
      throw outcome.problem;
    }
    return toItemDto(outcome.item!, quarantineDays);
  }

  /**
   * Sophos's "release and allow sender" / "delete and block sender": the sender (envelope, else header From) is added
   * to the account's Email Security allow / block list (a policy change: validated, partner locks honoured, audited),
   * then the item is released / deleted. Refused before anything changes when the item cannot take the action.
   */
  async actAndListSender(principal: Principal, accountId: string, itemId: string, action: Action): Promise<QuarantineListedSenderDto> {
    const quarantineDays = await this.quarantineDays(principal, accountId);
    const existing = await this.quarantine.find(accountId, itemId);
    if (!existing) {
      throw ApiProblem.notFound('quarantine item', itemId);
    }
    const refused = refusal(existing, action, quarantineDays);
    if (refused) {
      throw refused.problem;
    }
    const list: SenderList = action === 'release' ? 'allowList' : 'blockList';
    const sender = (existing.message.envelopeFrom || existing.message.headerFrom || '').trim().toLowerCase();
    if (!sender) {
      throw new ApiProblem(409, ProblemCode.QuarantineNoSender, `item ${itemId}: the message has no sender address (null sender) to put on the ${list}`);
    }
    const policy = await this.policies.addSenderToAccountList(principal, accountId, list, sender);
    const outcome = await this.apply(principal, accountId, itemId, action, quarantineDays);
    if (outcome.problem) {
      throw outcome.problem;
    }
    return { item: toItemDto(outcome.item!, quarantineDays), sender, list, policy };
  }

  async bulk(principal: Principal, accountId: string, ids: string[], action: Action): Promise<BulkQuarantineOutcomeDto[]> {
    const quarantineDays = await this.quarantineDays(principal, accountId);
    const results: BulkQuarantineOutcomeDto[] = [];
    for (const id of [...new Set(ids)]) {
      const outcome = await this.apply(principal, accountId, id, action, quarantineDays);
      results.push({ id, outcome: outcome.outcome, detail: outcome.problem?.detail ?? `${action === 'release' ? 'released' : 'deleted'}` });
    }
    return results;
  }

  /**
   * HELD → RELEASED / DELETED with its audit entry (one transaction), then, for a release, the delivery job
   * (jobId `release-<itemId>`). A release of an item already RELEASED enqueues again: the job id makes that a
   * no-op when the job exists, and recovers a release whose enqueue was lost after the commit.
   */
  private async apply(
    principal: Principal,
    accountId: string,
    itemId: string,
    action: Action,
    quarantineDays: number,
  ): Promise<{ outcome: BulkQuarantineOutcomeDto['outcome']; item?: QuarantineItemWithMessage; problem?: ApiProblem }> {
    const existing = await this.quarantine.find(accountId, itemId);
    if (!existing) {
      return { outcome: 'NOT_FOUND', problem: ApiProblem.notFound('quarantine item', itemId) };
    }
    const refused = refusal(existing, action, quarantineDays);
    if (refused) {
      return { outcome: refused.outcome, problem: refused.problem };
    }
    const transition = await this.quarantine.transition(accountId, itemId, action === 'release' ? 'RELEASED' : 'DELETED', actorOf(principal));
    const current = transition?.after ?? transition?.before ?? existing;
    const raced = transition && !transition.after ? refusal(current, action, quarantineDays) : null;
    if (raced) {
      return { outcome: raced.outcome, problem: raced.problem };
    }
    if (action === 'release') {
      await this.queues.add(DeliveryJob, { messageId: existing.messageId, recipients: [existing.recipient], quarantineItemId: existing.id });
      this.logger.log({ event: 'quarantine.released', accountId, itemId, messageId: existing.messageId });
    }
    const item = (await this.quarantine.find(accountId, itemId))!;
    const changed = transition?.after !== null && transition?.after !== undefined;
    return {
      outcome: action === 'release' ? (changed ? 'RELEASED' : 'ALREADY_RELEASED') : changed ? 'DELETED' : 'ALREADY_DELETED',
      item,
    };
  }
}
