import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { AccountModeService, AccountRuleCode, AccountRuleException, normalizeDomainName } from '@mailwarden/accounts';
import { AuditRepository, DomainRepository, MailflowHealthRepository, PrismaService, type Domain, type DomainMailflowStatus, type Prisma } from '@mailwarden/db';
import { QuickTestService } from '@mailwarden/delivery';
import { MailflowQuickTestService, Microsoft365Service, type QuickTestHop } from '@mailwarden/microsoft365';
import { toDomainMailflowHealthDto } from '../mailflow/mailflow-health-api.service';
import { CachingDnsResolver } from '@mailwarden/sender-checks';
import { decodeCursor, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { lookupTxt } from '../common/txt-lookup';
import type { CreateDomainDto } from './dto/create-domain.dto';
import type { DomainDto } from './dto/domain.dto';
import type { DomainVerificationDto } from './dto/domain-verification.dto';
import type { VerifyDomainQueryDto } from './dto/verify-domain-query.dto';
import { stripAddressLiteral } from './dto/downstream-host';
import type { DownstreamRouteDto } from './dto/downstream-route.dto';
import type { QuickTestDto } from './dto/quick-test.dto';
import type { QuickTestResultDto } from './dto/quick-test-result.dto';

export function toDomainDto(domain: Domain, mailflowHealth: DomainMailflowStatus | null = null): DomainDto {
  return {
    id: domain.id,
    accountId: domain.accountId,
    name: domain.name,
    mode: domain.mode,
    transitionMode: domain.transitionMode,
    verificationStatus: domain.verificationStatus,
    verificationRecord: { name: domain.name, type: 'TXT', value: domain.verificationToken },
    verifiedAt: domain.verifiedAt?.toISOString() ?? null,
    downstream: domain.downstreamHost
      ? { host: domain.downstreamHost, port: domain.downstreamPort, requireTls: domain.downstreamRequireTls, verifyCert: domain.downstreamVerifyCert }
      : null,
    mailflowHealth: mailflowHealth ? toDomainMailflowHealthDto(mailflowHealth) : null,
    createdAt: domain.createdAt.toISOString(),
    updatedAt: domain.updatedAt.toISOString(),
  };
}

@Injectable()
export class DomainsService {
  constructor(
    private readonly domains: DomainRepository,
    private readonly accountMode: AccountModeService,
    private readonly access: TenantAccess,
    private readonly dns: CachingDnsResolver,
    private readonly quickTests: QuickTestService,
    private readonly audit: AuditRepository,
    private readonly mailflowHealth: MailflowHealthRepository,
    private readonly mailflowQuickTests: MailflowQuickTestService,
    private readonly microsoft365: Microsoft365Service,
    private readonly prisma: PrismaService,
  ) {}

  /**
   * Adds a domain; refused (409, with the reason code) when the account has the name already or the mode is not
   * allowed. Other accounts' domains are never consulted: adding claims nothing, verifying does (first wins).
   */
  async add(principal: Principal, accountId: string, dto: CreateDomainDto): Promise<DomainDto> {
    const account = await this.access.account(principal, accountId);
    const name = normalizeDomainName(dto.name);
    const mode = dto.mode ?? 'JOURNAL';
    const check = await this.accountMode.checkNewDomain(accountId, name, mode);
    if (!check.ok) {
      throw new AccountRuleException(check.code, check.reason);
    }
    try {
      return toDomainDto(await this.domains.create({ accountId, partnerId: account.partnerId, name, mode }, actorOf(principal)));
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') {
        // Added concurrently by someone else: answer with the same reason as the check above would have.
        const again = await this.accountMode.checkNewDomain(accountId, name, mode);
        throw new AccountRuleException(again.ok ? AccountRuleCode.DomainAlreadyConnected : again.code, again.ok ? `domain ${name} was just connected` : again.reason);
      }
      throw error;
    }
  }

  async list(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<DomainDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['name'] as const);
    const rows = await this.domains.list(accountId, { after, limit: limit + 1 });
    const health = new Map((await this.mailflowHealth.listDomainStatus(accountId)).map((row) => [row.domainId, row]));
    return toPage(rows, limit, (row) => ({ name: row.name }), (row) => toDomainDto(row, health.get(row.id) ?? null));
  }

  async get(principal: Principal, accountId: string, domainId: string): Promise<DomainDto> {
    const domain = await this.find(principal, accountId, domainId);
    return toDomainDto(domain, await this.mailflowHealth.findDomainStatus(domain.id));
  }

  /**
   * Looks up the domain's TXT records for its `mailwarden-verification=` token through the configured resolver
   * (`DNS_SERVERS`); the answer says whether DNS answered from the cache, which `bypassCache` skips.
   */
  async verify(principal: Principal, accountId: string, domainId: string, query: VerifyDomainQueryDto = {}): Promise<DomainVerificationDto> {
    const domain = await this.find(principal, accountId, domainId);
    const { txtRecords, dnsError, fromCache } = await lookupTxt(this.dns, domain.name, query.bypassCache === true);
    const verified = txtRecords.some((record) => record.trim() === domain.verificationToken);
    // A DNS failure decides nothing; a domain once verified stays verified (the record may be removed afterwards).
    let status = dnsError !== null ? domain.verificationStatus : verified || domain.verificationStatus === 'VERIFIED' ? 'VERIFIED' : 'FAILED';
    const evidence = { txtRecords, dnsError, matched: verified, fromCache };
    let updated: Domain | null;
    try {
      updated = await this.domains.setVerification(accountId, domainId, status, actorOf(principal), evidence);
    } catch (error) {
      if ((error as { code?: string }).code !== 'P2002' || status !== 'VERIFIED') {
        throw error;
      }
      // Another account verified the name first ("domain_name_verified_key"): the first to verify holds it. The
      // answer is an ordinary failed verification, which says nothing about who holds the name.
      status = 'FAILED';
      updated = await this.domains.setVerification(accountId, domainId, status, actorOf(principal), evidence);
    }
    return { domain: toDomainDto(updated ?? domain), verified: status === 'VERIFIED', txtRecords, dnsError, fromCache };
  }

  async setDownstream(principal: Principal, accountId: string, domainId: string, dto: DownstreamRouteDto): Promise<DomainDto> {
    await this.find(principal, accountId, domainId);
    const literal = stripAddressLiteral(dto.host);
    const host = isIP(literal) ? literal : normalizeDomainName(dto.host);
    const updated = await this.domains.setDownstream(accountId, domainId, { ...dto, host }, actorOf(principal));
    if (!updated) {
      throw ApiProblem.notFound('domain', domainId);
    }
    return toDomainDto(updated);
  }

  /**
   * The quick test (libs/delivery QuickTestService): a test message through the scanner's SMTP front to a recipient
   * of the domain, followed until the downstream accepted it. Only for GATEWAY and MAILFLOW domains; audited with
   * its outcome as `domain.quick_test`.
   */
  async quickTest(principal: Principal, accountId: string, domainId: string, dto: QuickTestDto): Promise<QuickTestResultDto> {
    const domain = await this.find(principal, accountId, domainId);
    if (domain.mode === 'JOURNAL') {
      throw new ApiProblem(409, ProblemCode.QuickTestNotApplicable, `domain ${domain.name} is in JOURNAL mode: Mailwarden does not deliver its mail, there is no path to test`);
    }
    const recipient = dto.recipient?.trim().toLowerCase();
    if (recipient !== undefined && recipient.slice(recipient.lastIndexOf('@') + 1) !== domain.name) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, `the recipient must be an address of ${domain.name}`, [
        { field: 'recipient', code: 'NOT_IN_DOMAIN', message: `recipient must be an address of ${domain.name}` },
      ]);
    }
    const mailflow = domain.mode === 'MAILFLOW' || domain.transitionMode === 'MAILFLOW';
    const result: QuickTestResultDto =
      mailflow && this.microsoft365.isConfigured && (await this.prisma.m365Connection.count({ where: { accountId } })) > 0
        ? await this.microsoft365QuickTest(principal, domain, recipient)
        : { ...(await this.quickTests.quickTest(domain.id, { recipient })), path: 'SCANNER' };
    await this.audit.append({ ...actorOf(principal), accountId, action: 'domain.quick_test', objectType: 'domain', objectId: domain.id, after: { ...result } as unknown as Prisma.InputJsonValue });
    return result;
  }

  /** The real path of a mailflow domain (issue 16): into Exchange Online, through Mailwarden, into the mailbox. */
  private async microsoft365QuickTest(principal: Principal, domain: Domain, recipient: string | undefined): Promise<QuickTestResultDto> {
    const created = await this.mailflowQuickTests.create({ accountId: domain.accountId, domainId: domain.id, domain: domain.name, recipient, requestedBy: actorOf(principal).actor });
    const test = await this.mailflowQuickTests.run(created.id);
    const hops = test.hops as unknown as QuickTestHop[];
    const message = await this.mailflowHealth.findMessage(domain.accountId, test.internetMessageId);
    const last = hops.filter((hop) => hop.elapsedMs !== null).at(-1);
    return {
      domainId: domain.id,
      domain: domain.name,
      recipient: test.recipient,
      accepted: hops[0]?.status === 'passed',
      arrived: test.status === 'PASSED',
      deliveryState: message?.deliveryState ?? null,
      messageId: message?.id ?? null,
      elapsedMs: last?.elapsedMs ?? 0,
      ...(test.status === 'FAILED' ? { error: hops.find((hop) => hop.hop === test.failedHop)?.detail ?? test.failedHop ?? undefined } : {}),
      path: 'MICROSOFT365',
      hops,
      failedHop: test.failedHop,
      quickTestId: test.id,
    };
  }

  async remove(principal: Principal, accountId: string, domainId: string): Promise<DomainDto> {
    await this.access.account(principal, accountId);
    const removed = await this.domains.remove(accountId, domainId, actorOf(principal));
    if (!removed) {
      throw ApiProblem.notFound('domain', domainId);
    }
    return toDomainDto(removed);
  }

  private async find(principal: Principal, accountId: string, domainId: string): Promise<Domain> {
    await this.access.account(principal, accountId);
    const domain = await this.domains.find(accountId, domainId);
    if (!domain) {
      throw ApiProblem.notFound('domain', domainId);
    }
    return domain;
  }
}
