import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { BulkQuarantineDto } from './dto/bulk-quarantine.dto';
import { BulkQuarantineResultDto } from './dto/bulk-quarantine-result.dto';
import { QuarantineItemDto } from './dto/quarantine-item.dto';
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
  release(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<QuarantineItemDto> {
    return this.quarantine.release(principal, accountId, itemId);
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
