import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { AlertPageDto } from './dto/alert-page.dto';
import { AlertQueryDto } from './dto/alert-query.dto';
import { ConfigureMimecastDto } from './dto/configure-mimecast.dto';
import { MimecastConnectionDto } from './dto/mimecast-connection.dto';
import { MimecastTestResultDto } from './dto/mimecast-test-result.dto';
import { MimecastIntegrationService } from './mimecast-integration.service';

const unavailable = () =>
  ApiResponse({ status: 503, description: 'SECRETS_KEY_NOT_CONFIGURED', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

@AdminController('integrations', 'v1/accounts/:accountId/integrations/mimecast')
export class MimecastController {
  constructor(private readonly mimecast: MimecastIntegrationService) {}

  @Put()
  @ApiOperation({ operationId: 'configureMimecast', summary: 'Configure (or replace) the Mimecast connection; credentials are write-only' })
  @ApiOkResponse({ type: MimecastConnectionDto })
  @unavailable()
  configure(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Body() dto: ConfigureMimecastDto,
  ): Promise<MimecastConnectionDto> {
    return this.mimecast.configure(principal, accountId, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'getMimecast', summary: 'The Mimecast connection, without secrets' })
  @ApiOkResponse({ type: MimecastConnectionDto })
  @unavailable()
  get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MimecastConnectionDto> {
    return this.mimecast.get(principal, accountId);
  }

  @Delete()
  @HttpCode(200)
  @ApiOperation({ operationId: 'removeMimecast', summary: 'Remove the connection (stored alerts stay); returns it as it was' })
  @ApiOkResponse({ type: MimecastConnectionDto })
  @unavailable()
  remove(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MimecastConnectionDto> {
    return this.mimecast.remove(principal, accountId);
  }

  @Post('test')
  @HttpCode(200)
  @ApiOperation({ operationId: 'testMimecast', summary: 'Test the stored connection with one small Mimecast call' })
  @ApiOkResponse({ type: MimecastTestResultDto })
  @unavailable()
  test(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MimecastTestResultDto> {
    return this.mimecast.test(principal, accountId);
  }

  @Get('alerts')
  @ApiOperation({ operationId: 'listMimecastAlerts', summary: 'Third-party (Mimecast TTP) alerts, newest first, mapped to MITRE ATT&CK' })
  @ApiOkResponse({ type: AlertPageDto })
  @unavailable()
  alerts(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: AlertQueryDto): Promise<AlertPageDto> {
    return this.mimecast.alerts(principal, accountId, query);
  }
}
