import { Body, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { ImportMailboxesDto } from './dto/import-mailboxes.dto';
import { SyncRunDto } from './dto/sync-run.dto';
import { Microsoft365ApiService } from './microsoft365-api.service';

/** CSV import of mailboxes (the manual route), through the same path and run record as a directory sync. */
@AdminController('directory', 'v1/accounts/:accountId/mailboxes/import')
export class MailboxImportController {
  constructor(private readonly microsoft365: Microsoft365ApiService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'importMailboxes', summary: 'Add or update mailboxes from CSV (`email`, `displayName`); one bad row refuses the whole file (CSV_INVALID, rows named)' })
  @ApiOkResponse({ type: SyncRunDto })
  import(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: ImportMailboxesDto): Promise<SyncRunDto> {
    return this.microsoft365.importMailboxes(principal, accountId, dto.csv);
  }
}
