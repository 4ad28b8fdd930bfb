import { Body, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { PartnerOnly } from '../common/api-key.guard';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { AccountsService } from './accounts.service';
import { CreatedApiKeyDto } from './dto/created-api-key.dto';
import { CreatePartnerApiKeyDto } from './dto/create-partner-api-key.dto';

@AdminController('accounts', 'v1/partners')
export class PartnersController {
  constructor(private readonly accounts: AccountsService) {}

  @Post(':partnerId/api-keys')
  @PartnerOnly()
  @ApiOperation({
    operationId: 'createPartnerApiKey',
    summary: "Create a partner admin key for the caller's own partner, shown once; with `revokes`, rotate (the old key stops at once)",
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  createApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('partnerId', ParseUUIDPipe) partnerId: string,
    @Body() dto: CreatePartnerApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.accounts.createPartnerApiKey(principal, partnerId, dto);
  }
}
