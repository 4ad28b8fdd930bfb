import { Body, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { ProblemDto } from '../common/dto/problem.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { VerifyDomainQueryDto } from '../domains/dto/verify-domain-query.dto';
import { DkimKeysService } from './dkim-keys.service';
import { CreateDkimKeyDto } from './dto/create-dkim-key.dto';
import { DkimKeyCheckDto, DkimKeyDto, DkimKeyPageDto } from './dto/dkim-key.dto';

@AdminController('dkim', 'v1/accounts/:accountId/domains/:domainId/dkim-keys')
export class DkimKeysController {
  constructor(private readonly keys: DkimKeysService) {}

  @Post()
  @ApiOperation({
    operationId: 'createDkimKey',
    summary: 'Generate a DKIM signing key for a verified domain (RSA-2048 or Ed25519): publish its dnsRecord, then check it; audited',
  })
  @ApiCreatedResponse({ type: DkimKeyDto })
  @ApiConflict('DOMAIN_NOT_VERIFIED, or CONFLICT (the selector was used for this domain before)')
  @ApiResponse({ status: 503, description: 'SECRETS_KEY_NOT_CONFIGURED', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } })
  create(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Body() dto: CreateDkimKeyDto,
  ): Promise<DkimKeyDto> {
    return this.keys.create(principal, accountId, domainId, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listDkimKeys', summary: "The domain's DKIM keys, newest first, each with the TXT record to publish (never a private key)" })
  @ApiOkResponse({ type: DkimKeyPageDto })
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Query() query: PageQueryDto,
  ): Promise<DkimKeyPageDto> {
    return this.keys.list(principal, accountId, domainId, query);
  }

  @Get(':dkimKeyId')
  @ApiOperation({ operationId: 'getDkimKey', summary: 'One DKIM key with its status and TXT record' })
  @ApiOkResponse({ type: DkimKeyDto })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Param('dkimKeyId', ParseUUIDPipe) dkimKeyId: string,
  ): Promise<DkimKeyDto> {
    return this.keys.get(principal, accountId, domainId, dkimKeyId);
  }

  @Post(':dkimKeyId/check')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'checkDkimKey',
    summary: 'Look up <selector>._domainkey.<domain> (TXT, DNS_SERVERS); a pending key becomes ACTIVE only when the published record is exactly the generated one; audited',
  })
  @ApiOkResponse({ type: DkimKeyCheckDto })
  check(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Param('dkimKeyId', ParseUUIDPipe) dkimKeyId: string,
    @Query() query: VerifyDomainQueryDto,
  ): Promise<DkimKeyCheckDto> {
    return this.keys.check(principal, accountId, domainId, dkimKeyId, query);
  }

  @Post(':dkimKeyId/retire')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retireDkimKey', summary: 'Retire a key: it signs nothing from now on (remove its record from DNS afterwards); audited' })
  @ApiOkResponse({ type: DkimKeyDto })
  retire(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Param('dkimKeyId', ParseUUIDPipe) dkimKeyId: string,
  ): Promise<DkimKeyDto> {
    return this.keys.retire(principal, accountId, domainId, dkimKeyId);
  }
}
