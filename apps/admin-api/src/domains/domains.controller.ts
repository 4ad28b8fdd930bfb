import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { DomainsService } from './domains.service';
import { CreateDomainDto } from './dto/create-domain.dto';
import { DomainDto } from './dto/domain.dto';
import { DomainPageDto } from './dto/domain-page.dto';
import { DomainVerificationDto } from './dto/domain-verification.dto';
import { DownstreamRouteDto } from './dto/downstream-route.dto';
import { QuickTestDto } from './dto/quick-test.dto';
import { QuickTestResultDto } from './dto/quick-test-result.dto';
import { VerifyDomainQueryDto } from './dto/verify-domain-query.dto';

@AdminController('domains', 'v1/accounts/:accountId/domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Post()
  @ApiOperation({ operationId: 'addDomain', summary: 'Connect a domain (pending verification)' })
  @ApiCreatedResponse({ type: DomainDto })
  @ApiConflict('DOMAIN_ALREADY_CONNECTED or MONITOR_ONLY_ALLOWS_JOURNAL_ONLY')
  add(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: CreateDomainDto): Promise<DomainDto> {
    return this.domains.add(principal, accountId, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listDomains', summary: 'Domains of the account with mode and verification status, by name' })
  @ApiOkResponse({ type: DomainPageDto })
  list(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<DomainPageDto> {
    return this.domains.list(principal, accountId, query);
  }

  @Get(':domainId')
  @ApiOperation({ operationId: 'getDomain', summary: 'One domain: mode, verification record and status, downstream route' })
  @ApiOkResponse({ type: DomainDto })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
  ): Promise<DomainDto> {
    return this.domains.get(principal, accountId, domainId);
  }

  @Post(':domainId/verify')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'verifyDomain',
    summary: 'Look up the TXT record mailwarden-verification=… (DNS_SERVERS) and record the outcome; says when the answer came from the cache',
  })
  @ApiOkResponse({ type: DomainVerificationDto })
  verify(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Query() query: VerifyDomainQueryDto,
  ): Promise<DomainVerificationDto> {
    return this.domains.verify(principal, accountId, domainId, query);
  }

  @Post(':domainId/quick-test')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'quickTestDomain',
    summary: "Send a test message through the scanner's SMTP front to a recipient of the domain and wait until the downstream accepted it (up to 30 s); audited",
  })
  @ApiOkResponse({ type: QuickTestResultDto })
  @ApiConflict('QUICK_TEST_NOT_APPLICABLE (a JOURNAL domain: Mailwarden does not deliver its mail)')
  quickTest(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Body() dto: QuickTestDto,
  ): Promise<QuickTestResultDto> {
    return this.domains.quickTest(principal, accountId, domainId, dto);
  }

  @Put(':domainId/downstream')
  @ApiOperation({ operationId: 'setDomainDownstream', summary: 'Set where accepted mail of the domain is relayed' })
  @ApiOkResponse({ type: DomainDto })
  setDownstream(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
    @Body() dto: DownstreamRouteDto,
  ): Promise<DomainDto> {
    return this.domains.setDownstream(principal, accountId, domainId, dto);
  }

  @Delete(':domainId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'removeDomain', summary: 'Disconnect a domain; returns it as it was' })
  @ApiOkResponse({ type: DomainDto })
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('domainId', ParseUUIDPipe) domainId: string,
  ): Promise<DomainDto> {
    return this.domains.remove(principal, accountId, domainId);
  }
}
