import { Body, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { CreateRemediationDto } from './dto/create-remediation.dto';
import { PreviewRemediationDto } from './dto/preview-remediation.dto';
import { RemediateMessageDto } from './dto/remediate-message.dto';
import { RemediationPageDto } from './dto/remediation-page.dto';
import { RemediationPreviewDto } from './dto/remediation-preview.dto';
import { RemediationDto } from './dto/remediation.dto';
import { RemediationPathDto } from './dto/remediation-path.dto';
import { Microsoft365ApiService } from './microsoft365-api.service';

const notConfigured = () =>
  ApiResponse({ status: 503, description: 'MICROSOFT365_NOT_CONFIGURED', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

const PERMISSION = 'Graph application permission: Mail.ReadWrite.';

/** Clawback (post-delivery remediation) of delivered mail in Microsoft 365 mailboxes, monitor-only accounts included. */
@AdminController('remediations', 'v1/accounts/:accountId')
export class RemediationsController {
  constructor(private readonly microsoft365: Microsoft365ApiService) {}

  @Post('messages/:messageId/remediations')
  @HttpCode(202)
  @ApiOperation({ operationId: 'remediateMessage', summary: `Claw back one message from its recipients' mailboxes (all, or the recipients given); runs in the background. ${PERMISSION}` })
  @ApiAcceptedResponse({ type: RemediationDto })
  @ApiConflict('MICROSOFT365_NOT_CONNECTED, REMEDIATION_NO_MAILBOXES')
  @notConfigured()
  remediateMessage(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
    @Body() dto: RemediateMessageDto,
  ): Promise<RemediationDto> {
    return this.microsoft365.remediateMessage(principal, accountId, messageId, dto);
  }

  @Get('messages/:messageId/remediations')
  @ApiOperation({ operationId: 'listMessageRemediations', summary: "Clawbacks and restores of one message, newest first, with that message's per-mailbox status" })
  @ApiOkResponse({ type: [RemediationDto] })
  ofMessage(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Param('messageId', ParseUUIDPipe) messageId: string): Promise<RemediationDto[]> {
    return this.microsoft365.ofMessage(principal, accountId, messageId);
  }

  @Post('remediations/preview')
  @HttpCode(200)
  @ApiOperation({ operationId: 'previewRemediation', summary: 'How many messages and mailboxes a clawback by search would act on (nothing is done)' })
  @ApiOkResponse({ type: RemediationPreviewDto })
  @ApiConflict('MICROSOFT365_NOT_CONNECTED')
  @notConfigured()
  preview(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: PreviewRemediationDto): Promise<RemediationPreviewDto> {
    return this.microsoft365.preview(principal, accountId, dto.search);
  }

  @Post('remediations')
  @HttpCode(202)
  @ApiOperation({ operationId: 'createRemediation', summary: `Claw back a selection of messages (messageIds) or everything a history search matches (search, same filters); runs in the background. ${PERMISSION}` })
  @ApiAcceptedResponse({ type: RemediationDto })
  @ApiConflict('MICROSOFT365_NOT_CONNECTED, REMEDIATION_NO_MAILBOXES, REMEDIATION_PREVIEW_CHANGED')
  @notConfigured()
  create(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: CreateRemediationDto): Promise<RemediationDto> {
    return this.microsoft365.create(principal, accountId, dto);
  }

  @Get('remediations')
  @ApiOperation({ operationId: 'listRemediations', summary: 'Clawbacks and restores, newest first, with counts per mailbox status' })
  @ApiOkResponse({ type: RemediationPageDto })
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<RemediationPageDto> {
    return this.microsoft365.list(principal, accountId, query);
  }

  @Get('remediations/:remediationId')
  @ApiOperation({ operationId: 'getRemediation', summary: 'One remediation with the status of every mailbox (queued, in progress, completed, not found, already in destination, failed with the Graph error)' })
  @ApiOkResponse({ type: RemediationDto })
  getOne(@CurrentPrincipal() principal: Principal, @Param() { accountId, remediationId }: RemediationPathDto): Promise<RemediationDto> {
    return this.microsoft365.getOne(principal, accountId, remediationId);
  }

  @Post('remediations/:remediationId/restore')
  @HttpCode(202)
  @ApiOperation({ operationId: 'restoreRemediation', summary: `Move what a finished clawback moved back to the inbox, where it still exists (not after HARD_DELETE). ${PERMISSION}` })
  @ApiAcceptedResponse({ type: RemediationDto })
  @ApiConflict('REMEDIATION_NOT_RESTORABLE, REMEDIATION_NOT_FINISHED, REMEDIATION_NO_MAILBOXES, MICROSOFT365_NOT_CONNECTED')
  @notConfigured()
  restore(@CurrentPrincipal() principal: Principal, @Param() { accountId, remediationId }: RemediationPathDto): Promise<RemediationDto> {
    return this.microsoft365.restore(principal, accountId, remediationId);
  }
}
