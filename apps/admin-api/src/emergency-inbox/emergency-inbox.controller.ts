import { Get, Param, ParseUUIDPipe, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { EmergencyInboxMessageDto } from './dto/emergency-inbox-message.dto';
import { EmergencyInboxPageDto } from './dto/emergency-inbox-page.dto';
import { EmergencyInboxMailboxDto, EmergencyInboxQueryDto } from './dto/emergency-inbox-query.dto';
import { EmergencyInboxService } from './emergency-inbox.service';

@AdminController('emergency-inbox', 'v1/accounts/:accountId/emergency-inbox')
export class EmergencyInboxController {
  constructor(private readonly inbox: EmergencyInboxService) {}

  @Get()
  @ApiOperation({ operationId: 'listEmergencyInbox', summary: "A mailbox's processed gateway / mailflow mail of the last N days (EMERGENCY_INBOX_DAYS at most), newest first" })
  @ApiOkResponse({ type: EmergencyInboxPageDto })
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: EmergencyInboxQueryDto): Promise<EmergencyInboxPageDto> {
    return this.inbox.list(principal, accountId, query);
  }

  @Get(':messageId')
  @ApiOperation({ operationId: 'readEmergencyInboxMessage', summary: 'One message of the mailbox, decoded for reading (subject, text, attachment list); audited as emergency_inbox.read' })
  @ApiOkResponse({ type: EmergencyInboxMessageDto })
  read(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
    @Query() query: EmergencyInboxMailboxDto,
  ): Promise<EmergencyInboxMessageDto> {
    return this.inbox.read(principal, accountId, messageId, query.mailbox);
  }

  @Get(':messageId/raw')
  @ApiOperation({ operationId: 'downloadEmergencyInboxMessage', summary: 'The message as received (message/rfc822), to open in a mail client; audited as emergency_inbox.downloaded' })
  @ApiProduces('message/rfc822')
  @ApiOkResponse({ description: 'The raw message', content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } } })
  async download(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
    @Query() query: EmergencyInboxMailboxDto,
  ): Promise<StreamableFile> {
    const raw = await this.inbox.download(principal, accountId, messageId, query.mailbox);
    return new StreamableFile(raw, { type: 'message/rfc822', disposition: `attachment; filename="${messageId}.eml"`, length: raw.byteLength });
  }
}
