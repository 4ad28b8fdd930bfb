import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QuarantineRepository, type QuarantineItem, type QuarantineItemWithMessage } from '@mailwarden/db';
import { DELIVERY_JOB, QueueName, releaseDeliveryJobId, type DeliveryJobData } from '@mailwarden/queue';
import { createdAtAfter, createdAtCursor } from '../accounts/accounts.service';
import { pageLimit, toPage, type Page } from '../common/cursor';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { BulkQuarantineOutcomeDto } from './dto/bulk-quarantine-outcome.dto';
import type { QuarantineItemDto } from './dto/quarantine-item.dto';
import type { QuarantineQueryDto } from './dto/quarantine-query.dto';

function toItemDto(item: QuarantineItemWithMessage): QuarantineItemDto {
  return {
    id: item.id,
    messageId: item.messageId,
    recipient: item.recipient,
    reason: item.reason,
    status: item.status,
    enforced: item.enforced,
    createdAt: item.createdAt.toISOString(),
    releasedAt: item.releasedAt?.toISOString() ?? null,
    expiresAt: item.expiresAt?.toISOString() ?? null,
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

/** Why an item cannot take the action, or null when it can (or already did: both actions are idempotent). */
function refusal(item: QuarantineItem, action: Action): { outcome: BulkQuarantineOutcomeDto['outcome']; problem: ApiProblem } | null {
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
    @InjectQueue(QueueName.Delivery) private readonly deliveryQueue: Queue<DeliveryJobData>,
  ) {
    // Without a listener BullMQ prints every Redis connection error to the console.
    this.deliveryQueue.on('error', (error: Error) => this.logger.warn({ event: 'admin_api.delivery_queue_error', error: error.message }));
  }

  async list(principal: Principal, accountId: string, query: QuarantineQueryDto): Promise<Page<QuarantineItemDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const rows = await this.quarantine.list(
      accountId,
      { status: query.status, enforced: query.enforced, recipient: query.recipient },
      { after: createdAtAfter(query.cursor), limit: limit + 1 },
    );
    return toPage(rows, limit, createdAtCursor, toItemDto);
  }

  async release(principal: Principal, accountId: string, itemId: string): Promise<QuarantineItemDto> {
    await this.access.account(principal, accountId);
    const outcome = await this.apply(principal, accountId, itemId, 'release');
    if (outcome.problem) {
      throw outcome.problem;
    }
    return toItemDto(outcome.item!);
  }

  async remove(principal: Principal, accountId: string, itemId: string): Promise<QuarantineItemDto> {
    await this.access.account(principal, accountId);
    const outcome = await this.apply(principal, accountId, itemId, 'delete');
    if (outcome.problem) {
      throw outcome.problem;
    }
    return toItemDto(outcome.item!);
  }

  async bulk(principal: Principal, accountId: string, ids: string[], action: Action): Promise<BulkQuarantineOutcomeDto[]> {
    await this.access.account(principal, accountId);
    const results: BulkQuarantineOutcomeDto[] = [];
    for (const id of [...new Set(ids)]) {
      const outcome = await this.apply(principal, accountId, id, action);
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
  ): Promise<{ outcome: BulkQuarantineOutcomeDto['outcome']; item?: QuarantineItemWithMessage; problem?: ApiProblem }> {
    const existing = await this.quarantine.find(accountId, itemId);
    if (!existing) {
      return { outcome: 'NOT_FOUND', problem: ApiProblem.notFound('quarantine item', itemId) };
    }
    const refused = refusal(existing, action);
    if (refused) {
      return { outcome: refused.outcome, problem: refused.problem };
    }
    const transition = await this.quarantine.transition(accountId, itemId, action === 'release' ? 'RELEASED' : 'DELETED', actorOf(principal));
    const current = transition?.after ?? transition?.before ?? existing;
    const raced = transition && !transition.after ? refusal(current, action) : null;
    if (raced) {
      return { outcome: raced.outcome, problem: raced.problem };
    }
    if (action === 'release') {
      await this.deliveryQueue.add(
        DELIVERY_JOB,
        { messageId: existing.messageId, recipients: [existing.recipient], quarantineItemId: existing.id },
        { jobId: releaseDeliveryJobId(existing.id) },
      );
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
