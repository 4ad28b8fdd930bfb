import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { PartnerOnly } from '../common/api-key.guard';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { AccountsService } from './accounts.service';
import { AccountDto } from './dto/account.dto';
import { AccountPageDto } from './dto/account-page.dto';
import { ApiKeyDto } from './dto/api-key.dto';
import { ApiKeyPageDto } from './dto/api-key-page.dto';
import { CreateAccountDto } from './dto/create-account.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { CreatedApiKeyDto } from './dto/created-api-key.dto';

@AdminController('accounts', 'v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @PartnerOnly()
  @ApiOperation({ operationId: 'createAccount', summary: 'Create an account (partner admin keys only)' })
  @ApiCreatedResponse({ type: AccountDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateAccountDto): Promise<AccountDto> {
    return this.accounts.create(principal, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listAccounts', summary: 'Accounts this key may see, newest first' })
  @ApiOkResponse({ type: AccountPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<AccountPageDto> {
    return this.accounts.list(principal, query);
  }

  @Get(':accountId')
  @ApiOperation({ operationId: 'getAccount', summary: 'One account, with its monitor-only flag and journal address' })
  @ApiOkResponse({ type: AccountDto })
  get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<AccountDto> {
    return this.accounts.get(principal, accountId);
  }

  @Post(':accountId/api-keys')
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create an API key for the account; the key is shown once' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  createApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.accounts.createApiKey(principal, accountId, dto);
  }

  @Get(':accountId/api-keys')
  @ApiOperation({ operationId: 'listApiKeys', summary: 'API keys of the account (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  listApiKeys(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Query() query: PageQueryDto,
  ): Promise<ApiKeyPageDto> {
    return this.accounts.listApiKeys(principal, accountId, query);
  }

  @Delete(':accountId/api-keys/:keyId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key (it stops working at once)' })
  @ApiOkResponse({ type: ApiKeyDto })
  revokeApiKey(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('keyId', ParseUUIDPipe) keyId: string,
  ): Promise<ApiKeyDto> {
    return this.accounts.revokeApiKey(principal, accountId, keyId);
  }
}
