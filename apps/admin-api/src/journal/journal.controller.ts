import { Body, Get, Inject, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { checkSourceRanges, JournalSettingsService } from '@mailwarden/accounts';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import type { Account } from '@mailwarden/db';
import { journalAddress, journalSetupInstructions } from '@mailwarden/mode-migrations';
import { AdminController } from '../common/admin-controller.decorator';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, CurrentPrincipal, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { JournalSetupDto } from './dto/journal-setup.dto';
import { UpdateJournalSettingsDto } from './dto/update-journal-settings.dto';

@AdminController('journal', 'v1/accounts/:accountId/journal')
export class JournalController {
  constructor(
    private readonly access: TenantAccess,
    private readonly settings: JournalSettingsService,
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getJournalSetup', summary: "The account's journal address and setup steps for Microsoft 365 and Google Workspace" })
  @ApiOkResponse({ type: JournalSetupDto })
  async get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<JournalSetupDto> {
    return this.toDto(await this.access.account(principal, accountId));
  }

  @Patch()
  @ApiOperation({
    operationId: 'updateJournalSettings',
    summary: 'Set the addresses or CIDR ranges allowed to send journal copies and whether STARTTLS is required (audited)',
  })
  @ApiOkResponse({ type: JournalSetupDto })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Body() dto: UpdateJournalSettingsDto,
  ): Promise<JournalSetupDto> {
    await this.access.account(principal, accountId);
    const check = dto.allowedSourceIps === undefined ? null : checkSourceRanges(dto.allowedSourceIps);
    if (check && !check.ok) {
      const errors = check.errors.map((error) => ({ field: `allowedSourceIps[${error.index}]`, code: 'INVALID_IP_RANGE', message: error.message }));
      throw new ApiProblem(400, ProblemCode.ValidationFailed, errors.map((error) => `${error.field}: ${error.message}`).join('; '), errors);
    }
    const account = await this.settings.set(accountId, { sourceIps: dto.allowedSourceIps, requireTls: dto.requireTls }, actorOf(principal));
    return this.toDto(account);
  }

  private toDto(account: Account): JournalSetupDto {
    const address = journalAddress(account.journalToken, this.config.JOURNAL_DOMAIN);
    return { address, allowedSourceIps: account.journalSourceIps, requireTls: account.journalRequireTls, instructions: journalSetupInstructions(address) };
  }
}
