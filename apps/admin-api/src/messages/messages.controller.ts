import { Get, Param, ParseUUIDPipe, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { MessageDetailDto } from './dto/message-detail.dto';
import { MessagePageDto } from './dto/message-page.dto';
import { MessageRecipientsDto } from './dto/message-recipients.dto';
import { MessageSearchQueryDto } from './dto/message-search-query.dto';
import { MessagesService } from './messages.service';

@AdminController('messages', 'v1/accounts/:accountId/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get()
  @ApiOperation({ operationId: 'searchMessages', summary: 'Message history: filter by time, sender, recipient, subject, Message-ID, direction, failed check, action, source' })
  @ApiOkResponse({ type: MessagePageDto })
  search(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Query() query: MessageSearchQueryDto,
  ): Promise<MessagePageDto> {
    return this.messages.search(principal, accountId, query);
  }

  @Get(':messageId')
  @ApiOperation({ operationId: 'getMessage', summary: "One message with every check's evidence, decided and applied action, delivery state" })
  @ApiOkResponse({ type: MessageDetailDto })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
  ): Promise<MessageDetailDto> {
    return this.messages.get(principal, accountId, messageId);
  }

  @Get(':messageId/recipients')
  @ApiOperation({
    operationId: 'getMessageRecipients',
    summary: "Each recipient's delivery state and event history: accepted, scanned, quarantined, every delivery attempt with its reply and time, deferred, failed, released, deleted",
  })
  @ApiOkResponse({ type: MessageRecipientsDto })
  recipients(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
  ): Promise<MessageRecipientsDto> {
    return this.messages.recipients(principal, accountId, messageId);
  }

  @Get(':messageId/raw')
  @ApiOperation({ operationId: 'downloadRawMessage', summary: 'The message as received (message/rfc822); the download is audited' })
  @ApiProduces('message/rfc822')
  @ApiOkResponse({ description: 'The raw message', content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } } })
  async raw(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
  ): Promise<StreamableFile> {
    const raw = await this.messages.raw(principal, accountId, messageId);
    return new StreamableFile(raw, { type: 'message/rfc822', disposition: `attachment; filename="${messageId}.eml"`, length: raw.byteLength });
  }
}
