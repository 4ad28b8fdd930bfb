import { Injectable } from '@nestjs/common';
import { MessageHistoryRepository, Microsoft365Repository, type MessageDetail, type MessageRecipientsHistory, type MessageSummary, type RemediationWithItems, type Verdict } from '@mailwarden/db';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import { ApiProblem } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { PoliciesService } from '../policies/policies.service';
import { toRemediationDto } from '../microsoft365/microsoft365-api.service';
import type { MessageDetailDto } from './dto/message-detail.dto';
import type { MessageRecipientsDto } from './dto/message-recipients.dto';
import type { RecipientEventDto } from './dto/recipient-event.dto';
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

/** The message_scan row of a message still PENDING (a row left beside an ended scan is not its state). */
const pendingScan = (message: MessageSummary) => (message.scanStatus === 'PENDING' ? message.scan : null);

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
    // While PENDING, the attempts and the last error are in message_scan; the scan's end copies them to the row.
    scanAttempts: pendingScan(message)?.attempts ?? message.scanAttempts,
    scanError: pendingScan(message)?.lastError ?? message.scanError,
    deliveryState: message.deliveryState,
  };
}

function toSummary(message: MessageSummary): MessageSummaryDto {
  return { ...messageFields(message), verdicts: message.verdicts.map(verdictSummary) };
}

function toDetail(message: MessageDetail, remediations: RemediationWithItems[]): MessageDetailDto {
  return {
    ...messageFields(message),
    clientIp: message.clientIp,
    helo: message.helo,
    scannedAt: message.scannedAt?.toISOString() ?? null,
    metadata: message.metadata as object,
    verdicts: message.verdicts.map(toVerdictDto),
    quarantine: message.quarantine.map((item) => ({ id: item.id, recipient: item.recipient, status: item.status, enforced: item.enforced })),
    remediations: remediations.map((remediation) => toRemediationDto(remediation)),
  };
}

/** Each recipient's copy and event history; ACCEPTED is the message row's receivedAt (the row is that record). */
function toRecipients(message: MessageRecipientsHistory): MessageRecipientsDto {
  const recipients = [...new Set([...message.envelopeTo, ...message.verdicts.map((verdict) => verdict.recipient), ...message.deliveries.map((copy) => copy.recipient)])];
  return {
    messageId: message.id,
    deliveryState: message.deliveryState,
    recipients: recipients.map((recipient) => {
      const verdict = message.verdicts.find((candidate) => candidate.recipient === recipient);
      const copy = message.deliveries.find((candidate) => candidate.recipient === recipient);
      const accepted: RecipientEventDto = { type: 'ACCEPTED', at: message.receivedAt.toISOString(), action: null, reply: null, detail: { source: message.source } };
      return {
        recipient,
        deliveryState: copy?.state ?? 'NOT_APPLICABLE',
        decidedAction: verdict?.decidedAction ?? null,
        appliedAction: verdict?.appliedAction ?? null,
        attempts: copy?.attempts ?? 0,
        lastError: copy?.lastError ?? null,
        lastAttemptAt: copy?.lastAttemptAt?.toISOString() ?? null,
        deliveredAt: copy?.deliveredAt?.toISOString() ?? null,
        events: [
          accepted,
          ...message.events
            .filter((event) => event.recipient === recipient)
            .map((event) => ({ type: event.type, at: event.occurredAt.toISOString(), action: event.action, reply: event.reply, detail: event.detail as object })),
        ],
      };
    }),
  };
}

const DAY_MS = 86_400_000;

@Injectable()
export class MessagesService {
  constructor(
    private readonly history: MessageHistoryRepository,
    private readonly access: TenantAccess,
    private readonly microsoft365: Microsoft365Repository,
    private readonly policies: PoliciesService,
  ) {}

  /**
   * The account (visible to the principal) and the start of its history window: a message received before it is
   * past the account's retention (`historyDays`), shown nowhere in history even before the purge removes it.
   */
  private async withinHistory(principal: Principal, accountId: string): Promise<{ historyStart: Date }> {
    const account = await this.access.account(principal, accountId);
    const { historyDays } = await this.policies.retentionOf(account);
    return { historyStart: new Date(Date.now() - historyDays * DAY_MS) };
  }

  async search(principal: Principal, accountId: string, query: MessageSearchQueryDto): Promise<Page<MessageSummaryDto>> {
    const window = await this.withinHistory(principal, accountId);
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
        ...window,
      },
      { after: cursor ? { receivedAt: decodeDate(cursor.receivedAt), id: decodeUuid(cursor.id) } : undefined, limit: limit + 1 },
    );
    return toPage(rows, limit, (row) => ({ receivedAt: row.receivedAt.toISOString(), id: row.id }), toSummary);
  }

  async get(principal: Principal, accountId: string, messageId: string): Promise<MessageDetailDto> {
    const window = await this.withinHistory(principal, accountId);
    const message = await this.history.findDetail(accountId, messageId, window);
    if (!message) {
      throw ApiProblem.notFound('message', messageId);
    }
    return toDetail(message, await this.microsoft365.listRemediationsOfMessage(accountId, messageId));
  }

  /** Per-recipient delivery state and event history. */
  async recipients(principal: Principal, accountId: string, messageId: string): Promise<MessageRecipientsDto> {
    const window = await this.withinHistory(principal, accountId);
    const message = await this.history.findRecipientsHistory(accountId, messageId, window);
    if (!message) {
      throw ApiProblem.notFound('message', messageId);
    }
    return toRecipients(message);
  }

  /** The stored bytes, exactly as received; the download is audited. */
  async raw(principal: Principal, accountId: string, messageId: string): Promise<Buffer> {
    const window = await this.withinHistory(principal, accountId);
    const found = await this.history.downloadRaw(accountId, messageId, actorOf(principal), undefined, window);
    if (!found) {
      throw ApiProblem.notFound('message', messageId);
    }
    return found.raw;
  }
}
