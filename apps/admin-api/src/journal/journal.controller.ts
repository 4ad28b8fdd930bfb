import { Get, Inject, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { journalAddress, journalSetupInstructions } from '@mailwarden/mode-migrations';
import { AdminController } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { JournalSetupDto } from './dto/journal-setup.dto';

@AdminController('journal', 'v1/accounts/:accountId/journal')
export class JournalController {
  constructor(
    private readonly access: TenantAccess,
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getJournalSetup', summary: "The account's journal address and setup steps for Microsoft 365 and Google Workspace" })
  @ApiOkResponse({ type: JournalSetupDto })
  async get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string): Promise<JournalSetupDto> {
    const account = await this.access.account(principal, accountId);
    const address = journalAddress(account.journalToken, this.config.JOURNAL_DOMAIN);
    return { address, allowedSourceIps: account.journalSourceIps, requireTls: account.journalRequireTls, instructions: journalSetupInstructions(address) };
  }
}
