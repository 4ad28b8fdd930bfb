import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { DeliveryRepository, MessageHistoryRepository, type EmergencyInboxEntry } from '@mailwarden/db';
import { parseMessageContent } from '@mailwarden/scanning';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { EmergencyInboxEntryDto } from './dto/emergency-inbox-entry.dto';
import type { EmergencyInboxMessageDto } from './dto/emergency-inbox-message.dto';
import type { EmergencyInboxQueryDto } from './dto/emergency-inbox-query.dto';

function toEntryDto(entry: EmergencyInboxEntry): EmergencyInboxEntryDto {
  return {
    id: entry.id,
    receivedAt: entry.receivedAt.toISOString(),
    envelopeFrom: entry.envelopeFrom,
    headerFrom: entry.headerFrom,
    subject: entry.subject,
    size: entry.size,
    deliveryState: entry.deliveryState,
  };
}

/**
 * The emergency inbox (DESIGN.md §3): a mailbox's gateway / mailflow mail of the last EMERGENCY_INBOX_DAYS days,
 * listed, read (decoded) and downloaded while its downstream is down. Reading and downloading are audited
 * (`emergency_inbox.read`, `emergency_inbox.downloaded`): they show a user's mail to an admin.
 */
@Injectable()
export class EmergencyInboxService {
  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly history: MessageHistoryRepository,
    private readonly access: TenantAccess,
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
  ) {}

  async list(principal: Principal, accountId: string, query: EmergencyInboxQueryDto): Promise<Page<EmergencyInboxEntryDto>> {
    await this.access.account(principal, accountId);
    const days = query.days ?? this.config.EMERGENCY_INBOX_DAYS;
    if (days > this.config.EMERGENCY_INBOX_DAYS) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, `messages are kept readable for ${this.config.EMERGENCY_INBOX_DAYS} days`, [
        { field: 'days', code: 'OUT_OF_RANGE', message: `days must be at most ${this.config.EMERGENCY_INBOX_DAYS} (EMERGENCY_INBOX_DAYS)` },
      ]);
    }
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['receivedAt', 'id'] as const);
    const rows = await this.deliveries.listEmergencyInbox(accountId, query.mailbox, days, {
      limit: limit + 1,
      before: cursor ? { receivedAt: decodeDate(cursor.receivedAt), id: decodeUuid(cursor.id) } : undefined,
    });
    return toPage(rows, limit, (row) => ({ receivedAt: row.receivedAt.toISOString(), id: row.id }), toEntryDto);
  }

  async read(principal: Principal, accountId: string, messageId: string, mailbox: string): Promise<EmergencyInboxMessageDto> {
    const { entry, raw } = await this.load(principal, accountId, messageId, mailbox, 'emergency_inbox.read');
    const content = await parseMessageContent(raw);
    return {
      ...toEntryDto(entry),
      decodedSubject: content.subject || null,
      text: content.textParts,
      attachments: content.attachments.map((attachment) => ({ filename: attachment.filename, contentType: attachment.contentType ?? 'application/octet-stream', size: attachment.content.byteLength })),
    };
  }

  async download(principal: Principal, accountId: string, messageId: string, mailbox: string): Promise<Buffer> {
    return (await this.load(principal, accountId, messageId, mailbox, 'emergency_inbox.downloaded')).raw;
  }

  private async load(principal: Principal, accountId: string, messageId: string, mailbox: string, action: string): Promise<{ entry: EmergencyInboxEntry; raw: Buffer }> {
    await this.access.account(principal, accountId);
    const entry = await this.deliveries.findEmergencyInboxEntry(accountId, mailbox, messageId, this.config.EMERGENCY_INBOX_DAYS);
    const found = entry ? await this.history.downloadRaw(accountId, messageId, actorOf(principal), action) : null;
    if (!entry || !found) {
      throw ApiProblem.notFound(`message in the emergency inbox of ${mailbox.toLowerCase()}:`, messageId);
    }
    return { entry, raw: found.raw };
  }
}
