import { Body, Delete, Get, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { MailflowConnectorDto } from './dto/mailflow-connector.dto';
import { SetMailflowConnectorDto } from './dto/set-mailflow-connector.dto';
import { MailflowConnectorService } from './mailflow-connector.service';

@AdminController('mailflow', 'v1/accounts/:accountId/mailflow-connector')
export class MailflowConnectorController {
  constructor(private readonly connectors: MailflowConnectorService) {}

  @Get()
  @ApiOperation({ operationId: 'getMailflowConnector', summary: "The account's registered Microsoft 365 connector (404 when none)" })
  @ApiOkResponse({ type: MailflowConnectorDto })
  get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MailflowConnectorDto> {
    return this.connectors.get(principal, accountId);
  }

  @Put()
  @ApiOperation({
    operationId: 'setMailflowConnector',
    summary: 'Register or replace the Microsoft 365 connector: MAILFLOW domains take mail only from these source ranges or this certificate name',
  })
  @ApiOkResponse({ type: MailflowConnectorDto })
  set(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: SetMailflowConnectorDto): Promise<MailflowConnectorDto> {
    return this.connectors.set(principal, accountId, dto);
  }

  @Delete()
  @ApiOperation({ operationId: 'removeMailflowConnector', summary: 'Remove the connector; refused while a domain is in (or moving to) MAILFLOW mode' })
  @ApiOkResponse({ type: MailflowConnectorDto })
  @ApiConflict('CONNECTOR_IN_USE')
  remove(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<MailflowConnectorDto> {
    return this.connectors.remove(principal, accountId);
  }
}
