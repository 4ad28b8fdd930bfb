import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { PartnerOnly } from '../common/api-key.guard';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { ExportDestinationDto, ExportDestinationListDto, ExportTestResultDto } from './dto/export-destination.dto';
import { CreateExportDestinationDto, UpdateExportDestinationDto } from './dto/write-export-destination.dto';
import { ExportDestinationsAdminService } from './export-destinations.admin.service';

const unavailable = () =>
  ApiResponse({ status: 503, description: 'SECRETS_KEY_NOT_CONFIGURED', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });
const destinationId = () => Param('destinationId', ParseUUIDPipe);

/** SIEM export destinations of one account. */
@AdminController('export', 'v1/accounts/:accountId/export-destinations')
export class AccountExportDestinationsController {
  constructor(private readonly destinations: ExportDestinationsAdminService) {}

  @Get()
  @ApiOperation({ operationId: 'listExportDestinations', summary: "The account's SIEM export destinations with their status (lag, last success, last error, counts)" })
  @ApiOkResponse({ type: ExportDestinationListDto })
  @unavailable()
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<ExportDestinationListDto> {
    return this.destinations.list(principal, accountId);
  }

  @Post()
  @ApiOperation({ operationId: 'createExportDestination', summary: 'Add a destination; it receives the events committed from now on. Credentials are write-only' })
  @ApiCreatedResponse({ type: ExportDestinationDto })
  @unavailable()
  create(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: CreateExportDestinationDto): Promise<ExportDestinationDto> {
    return this.destinations.create(principal, accountId, dto);
  }

  @Get(':destinationId')
  @ApiOperation({ operationId: 'getExportDestination', summary: 'One destination with its status, without secrets' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @destinationId() id: string): Promise<ExportDestinationDto> {
    return this.destinations.get(principal, accountId, id);
  }

  @Patch(':destinationId')
  @ApiOperation({ operationId: 'updateExportDestination', summary: 'Change settings, filters, credentials or enabled; the cursor keeps its place' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @destinationId() id: string,
    @Body() dto: UpdateExportDestinationDto,
  ): Promise<ExportDestinationDto> {
    return this.destinations.update(principal, accountId, id, dto);
  }

  @Delete(':destinationId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'removeExportDestination', summary: 'Remove the destination; returns it as it was' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  remove(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @destinationId() id: string): Promise<ExportDestinationDto> {
    return this.destinations.remove(principal, accountId, id);
  }

  @Post(':destinationId/test')
  @HttpCode(200)
  @ApiOperation({ operationId: 'testExportDestination', summary: 'Send one test event (Email Activity, unmapped.test = true) and report whether the receiver took it' })
  @ApiOkResponse({ type: ExportTestResultDto })
  @unavailable()
  test(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @destinationId() id: string): Promise<ExportTestResultDto> {
    return this.destinations.test(principal, accountId, id);
  }
}

/** SIEM export destinations of the caller's partner: events of every account of the partner (MSSP). */
@AdminController('export', 'v1/partner/export-destinations')
@PartnerOnly()
export class PartnerExportDestinationsController {
  constructor(private readonly destinations: ExportDestinationsAdminService) {}

  @Get()
  @ApiOperation({ operationId: 'listPartnerExportDestinations', summary: "The partner's SIEM export destinations (all its accounts' events) with status" })
  @ApiOkResponse({ type: ExportDestinationListDto })
  @unavailable()
  list(@CurrentPrincipal() principal: Principal): Promise<ExportDestinationListDto> {
    return this.destinations.list(principal, 'partner');
  }

  @Post()
  @ApiOperation({ operationId: 'createPartnerExportDestination', summary: 'Add a partner-wide destination; credentials are write-only' })
  @ApiCreatedResponse({ type: ExportDestinationDto })
  @unavailable()
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateExportDestinationDto): Promise<ExportDestinationDto> {
    return this.destinations.create(principal, 'partner', dto);
  }

  @Get(':destinationId')
  @ApiOperation({ operationId: 'getPartnerExportDestination', summary: 'One partner destination with its status' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  get(@CurrentPrincipal() principal: Principal, @destinationId() id: string): Promise<ExportDestinationDto> {
    return this.destinations.get(principal, 'partner', id);
  }

  @Patch(':destinationId')
  @ApiOperation({ operationId: 'updatePartnerExportDestination', summary: 'Change a partner destination' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  update(@CurrentPrincipal() principal: Principal, @destinationId() id: string, @Body() dto: UpdateExportDestinationDto): Promise<ExportDestinationDto> {
    return this.destinations.update(principal, 'partner', id, dto);
  }

  @Delete(':destinationId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'removePartnerExportDestination', summary: 'Remove a partner destination; returns it as it was' })
  @ApiOkResponse({ type: ExportDestinationDto })
  @unavailable()
  remove(@CurrentPrincipal() principal: Principal, @destinationId() id: string): Promise<ExportDestinationDto> {
    return this.destinations.remove(principal, 'partner', id);
  }

  @Post(':destinationId/test')
  @HttpCode(200)
  @ApiOperation({ operationId: 'testPartnerExportDestination', summary: 'Send one test event to a partner destination' })
  @ApiOkResponse({ type: ExportTestResultDto })
  @unavailable()
  test(@CurrentPrincipal() principal: Principal, @destinationId() id: string): Promise<ExportTestResultDto> {
    return this.destinations.test(principal, 'partner', id);
  }
}
