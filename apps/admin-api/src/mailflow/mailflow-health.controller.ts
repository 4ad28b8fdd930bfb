import { Body, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { MailflowAlertPageDto, MailflowHealthDto, UpdateMailflowEndpointDto } from './dto/mailflow-health.dto';
import { MailflowHealthApiService } from './mailflow-health-api.service';

/** Microsoft 365 mailflow health (issue 16): tamper alerts, per-domain health, the quick test's Exchange Online endpoint. */
@AdminController('microsoft365', 'v1/accounts/:accountId/mailflow')
export class MailflowHealthController {
  constructor(private readonly mailflow: MailflowHealthApiService) {}

  @Get('health')
  @ApiOperation({
    operationId: 'getMailflowHealth',
    summary: "Each mailflow domain's health as the tamper check last saw it (DEGRADED: Mailwarden's connectors or transport rule were removed, disabled or changed in Exchange Online)",
  })
  @ApiOkResponse({ type: MailflowHealthDto })
  health(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MailflowHealthDto> {
    return this.mailflow.health(principal, accountId);
  }

  @Get('alerts')
  @ApiOperation({ operationId: 'listMailflowAlerts', summary: 'Tamper alerts, newest first: TAMPER_DETECTED with the differences found, TAMPER_CLEARED when it matches again' })
  @ApiOkResponse({ type: MailflowAlertPageDto })
  alerts(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<MailflowAlertPageDto> {
    return this.mailflow.alerts(principal, accountId, query);
  }

  @Put('exchange-endpoint')
  @ApiOperation({ operationId: 'setMailflowExchangeEndpoint', summary: "The tenant's Exchange Online MX host the quick test sends its message to (audited)" })
  @ApiOkResponse({ type: MailflowHealthDto })
  setEndpoint(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: UpdateMailflowEndpointDto): Promise<MailflowHealthDto> {
    return this.mailflow.setEndpoint(principal, accountId, dto);
  }

  @Post('tamper-checks')
  @HttpCode(202)
  @ApiOperation({ operationId: 'runMailflowTamperCheck', summary: 'Queue a tamper check now (it reads Exchange Online and never changes anything there)' })
  @ApiAcceptedResponse({ description: 'Queued; the outcome shows in health and alerts' })
  async checkNow(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<void> {
    await this.mailflow.checkNow(principal, accountId);
  }
}
