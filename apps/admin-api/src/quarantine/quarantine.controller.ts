import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict, ApiProblemResponse } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { BulkQuarantineDto } from './dto/bulk-quarantine.dto';
import { BulkQuarantineResultDto } from './dto/bulk-quarantine-result.dto';
import { QuarantineItemDto } from './dto/quarantine-item.dto';
import { QuarantineListedSenderDto } from './dto/quarantine-listed-sender.dto';
import { QuarantinePageDto } from './dto/quarantine-page.dto';
import { QuarantineQueryDto } from './dto/quarantine-query.dto';
import { QuarantineService } from './quarantine.service';

@AdminController('quarantine', 'v1/accounts/:accountId/quarantine')
export class QuarantineController {
  constructor(private readonly quarantine: QuarantineService) {}

  @Get()
  @ApiOperation({ operationId: 'listQuarantine', summary: 'Quarantine items, newest first' })
  @ApiOkResponse({ type: QuarantinePageDto })
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: QuarantineQueryDto): Promise<QuarantinePageDto> {
    return this.quarantine.list(principal, accountId, query);
  }

  @Post('release')
  @HttpCode(200)
  @ApiOperation({ operationId: 'bulkReleaseQuarantine', summary: 'Release several items; one outcome per id' })
  @ApiOkResponse({ type: BulkQuarantineResultDto })
  async bulkRelease(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Body() dto: BulkQuarantineDto,
  ): Promise<BulkQuarantineResultDto> {
    return { results: await this.quarantine.bulk(principal, accountId, dto.ids, 'release') };
  }

  @Post('delete')
  @HttpCode(200)
  @ApiOperation({ operationId: 'bulkDeleteQuarantine', summary: 'Delete several items; one outcome per id' })
  @ApiOkResponse({ type: BulkQuarantineResultDto })
  async bulkDelete(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Body() dto: BulkQuarantineDto,
  ): Promise<BulkQuarantineResultDto> {
    return { results: await this.quarantine.bulk(principal, accountId, dto.ids, 'delete') };
  }

  @Post(':itemId/release')
  @HttpCode(200)
  @ApiOperation({ operationId: 'releaseQuarantineItem', summary: 'Release: mark RELEASED and queue delivery to the recipient (idempotent)' })
  @ApiOkResponse({ type: QuarantineItemDto })
  @ApiConflict('QUARANTINE_NOT_ENFORCED (monitor-only: nothing held) or QUARANTINE_ITEM_DELETED')
  @ApiProblemResponse(410, "QUARANTINE_ITEM_EXPIRED: past the tenant's quarantine window (it can be deleted, not released)")
  release(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<QuarantineItemDto> {
    return this.quarantine.release(principal, accountId, itemId);
  }

  @Post(':itemId/release-and-allow-sender')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'releaseQuarantineItemAndAllowSender',
    summary: 'Release the item and add its sender to the account allow list (Email Security allowList.addresses); audited as policy.updated and quarantine.released',
  })
  @ApiOkResponse({ type: QuarantineListedSenderDto })
  @ApiConflict('QUARANTINE_NOT_ENFORCED, QUARANTINE_ITEM_DELETED, QUARANTINE_NO_SENDER, or OPTION_LOCKED (the partner locked allowList)')
  @ApiProblemResponse(410, "QUARANTINE_ITEM_EXPIRED: past the tenant's quarantine window (it can be deleted, not released)")
  releaseAndAllowSender(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<QuarantineListedSenderDto> {
    return this.quarantine.actAndListSender(principal, accountId, itemId, 'release');
  }

  @Post(':itemId/delete-and-block-sender')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'deleteQuarantineItemAndBlockSender',
    summary: 'Delete the item and add its sender to the account block list (Email Security blockList.addresses); audited as policy.updated and quarantine.deleted',
  })
  @ApiOkResponse({ type: QuarantineListedSenderDto })
  @ApiConflict('QUARANTINE_NOT_ENFORCED, QUARANTINE_ITEM_RELEASED, QUARANTINE_NO_SENDER, or OPTION_LOCKED (the partner locked blockList)')
  deleteAndBlockSender(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<QuarantineListedSenderDto> {
    return this.quarantine.actAndListSender(principal, accountId, itemId, 'delete');
  }

  @Delete(':itemId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'deleteQuarantineItem', summary: 'Delete: mark DELETED, never delivered (idempotent)' })
  @ApiOkResponse({ type: QuarantineItemDto })
  @ApiConflict('QUARANTINE_NOT_ENFORCED (monitor-only: nothing held) or QUARANTINE_ITEM_RELEASED')
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<QuarantineItemDto> {
    return this.quarantine.remove(principal, accountId, itemId);
  }
}
