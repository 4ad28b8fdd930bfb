import { Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { ConnectionCheckDto } from './dto/connection-check.dto';
import { ConsentUrlDto } from './dto/consent-url.dto';
import { Microsoft365ConnectionDto } from './dto/microsoft365-connection.dto';
import { SyncRunPageDto } from './dto/sync-run-page.dto';
import { SyncRunDto } from './dto/sync-run.dto';
import { Microsoft365ApiService } from './microsoft365-api.service';

const notConfigured = () =>
  ApiResponse({ status: 503, description: 'MICROSOFT365_NOT_CONFIGURED (no app registration) or SECRETS_KEY_NOT_CONFIGURED', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

@AdminController('microsoft365', 'v1/accounts/:accountId/integrations/microsoft365')
export class Microsoft365Controller {
  constructor(private readonly microsoft365: Microsoft365ApiService) {}

  @Get()
  @ApiOperation({ operationId: 'getMicrosoft365', summary: 'The Microsoft 365 connection of the account (tenant id, consent, last directory sync); never a secret' })
  @ApiOkResponse({ type: Microsoft365ConnectionDto })
  get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<Microsoft365ConnectionDto> {
    return this.microsoft365.get(principal, accountId);
  }

  @Post('consent-url')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createMicrosoft365ConsentUrl',
    summary: "A link for the tenant's Global Administrator to grant Mailwarden's app admin consent (Mail.ReadWrite, User.Read.All, Group.Read.All); valid 1 hour",
  })
  @ApiOkResponse({ type: ConsentUrlDto })
  @notConfigured()
  consentUrl(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<ConsentUrlDto> {
    return this.microsoft365.consentUrl(principal, accountId);
  }

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'checkMicrosoft365',
    summary: 'Check the connection: an app-only token, then one Graph call per permission (User.Read.All, Group.Read.All, Mail.ReadWrite), naming the one refused',
  })
  @ApiOkResponse({ type: ConnectionCheckDto })
  @ApiConflict('MICROSOFT365_NOT_CONNECTED')
  @notConfigured()
  check(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<ConnectionCheckDto> {
    return this.microsoft365.check(principal, accountId);
  }

  @Delete()
  @HttpCode(200)
  @ApiOperation({ operationId: 'removeMicrosoft365', summary: 'Remove the connection and its sync schedule (synced mailboxes and groups stay); returns it as it was' })
  @ApiOkResponse({ type: Microsoft365ConnectionDto })
  remove(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<Microsoft365ConnectionDto> {
    return this.microsoft365.remove(principal, accountId);
  }

  @Post('directory-syncs')
  @HttpCode(202)
  @ApiOperation({ operationId: 'startDirectorySync', summary: 'Queue a directory sync now (users, addresses, groups, members via /delta). Graph permissions: User.Read.All, Group.Read.All' })
  @ApiAcceptedResponse({ type: SyncRunDto })
  @ApiConflict('MICROSOFT365_NOT_CONNECTED')
  @notConfigured()
  startSync(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<SyncRunDto> {
    return this.microsoft365.startSync(principal, accountId);
  }

  @Get('directory-syncs')
  @ApiOperation({ operationId: 'listDirectorySyncs', summary: 'Directory sync runs and CSV imports, newest first, with their counts' })
  @ApiOkResponse({ type: SyncRunPageDto })
  listSyncs(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<SyncRunPageDto> {
    return this.microsoft365.listSyncs(principal, accountId, query);
  }
}
