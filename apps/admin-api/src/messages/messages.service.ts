import { Injectable } from '@nestjs/common';
import { MessageHistoryRepository, type MessageDetail, type MessageSummary, type Verdict } from '@mailwarden/db';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import { ApiProblem } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { MessageDetailDto } from './dto/message-detail.dto';
import type { MessageSearchQueryDto } from './dto/message-search-query.dto';
import type { MessageSummaryDto } from './dto/message-summary.dto';
import type { VerdictDto } from './dto/verdict.dto';

const verdictSummary = (verdict: Verdict) => ({
  recipient: verdict.recipient,
  decidedAction: verdict.decidedAction,
  appliedAction: verdict.appliedAction,
  enforced: verdict.enforced,
  failedCheck: verdict.failedCheck,
});

function toVerdictDto(verdict: Verdict): VerdictDto {
  return {
    id: verdict.id,
    ...verdictSummary(verdict),
    checks: verdict.checks as object[],
    reasons: verdict.reasons as object[],
    skippedReason: verdict.skippedReason,
    createdAt: verdict.createdAt.toISOString(),
  };
}

/** The fields a history entry shows in the list and in the detail alike. */
function messageFields(message: MessageSummary): Omit<MessageSummaryDto, 'verdicts'> {
  return {
    id: message.id,
    source: message.source,
    direction: message.direction,
    envelopeFrom: message.envelopeFrom,
    envelopeTo: message.envelopeTo,
    headerFrom: message.headerFrom,
    subject: message.subject,
    messageIdHeader: message.messageIdHeader,
    size: message.size,
    receivedAt: message.receivedAt.toISOString(),
    scanStatus: message.scanStatus,
    deliveryState: message.deliveryState,
  };
}

function toSummary(message: MessageSummary): MessageSummaryDto {
  return { ...messageFields(message), verdicts: message.verdicts.map(verdictSummary) };
}

function toDetail(message: MessageDetail): MessageDetailDto {
  return {
    ...messageFields(message),
    clientIp: message.clientIp,
    helo: message.helo,
    scannedAt: message.scannedAt?.toISOString() ?? null,
    metadata: message.metadata as object,
    verdicts: message.verdicts.map(toVerdictDto),
    quarantine: message.quarantine.map((item) => ({ id: item.id, recipient: item.recipient, status: item.status, enforced: item.enforced })),
  };
}

@Injectable()
export class MessagesService {
  constructor(
    private readonly history: MessageHistoryRepository,
    private readonly access: TenantAccess,
  ) {}

  async search(principal: Principal, accountId: string, query: MessageSearchQueryDto): Promise<Page<MessageSummaryDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['receivedAt', 'id'] as const);
    const rows = await this.history.search(
      accountId,
      {
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        sender: query.sender,
        recipient: query.recipient,
        subject: query.subject,
        messageId: query.messageId,
        direction: query.direction,
        source: query.source,
        failedCheck: query.failedCheck,
        action: query.action,
        senderDomain: query.senderDomain,
        dataControlRule: query.dataControlRule,
      },
      { after: cursor ? { receivedAt: decodeDate(cursor.receivedAt), id: decodeUuid(cursor.id) } : undefined, limit: limit + 1 },
    );
    return toPage(rows, limit, (row) => ({ receivedAt: row.receivedAt.toISOString(), id: row.id }), toSummary);
  }

  async get(principal: Principal, accountId: string, messageId: string): Promise<MessageDetailDto> {
    await this.access.account(principal, accountId);
    const message = await this.history.findDetail(accountId, messageId);
    if (!message) {
      throw ApiProblem.notFound('message', messageId);
    }
    return toDetail(message);
  }

  /** The stored bytes, exactly as received; the download is audited. */
  async raw(principal: Principal, accountId: string, messageId: string): Promise<Buffer> {
    await this.access.account(principal, accountId);
    const found = await this.history.downloadRaw(accountId, messageId, actorOf(principal));
    if (!found) {
      throw ApiProblem.notFound('message', messageId);
    }
    return found.raw;
  }
}
