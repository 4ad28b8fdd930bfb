import { Module } from '@nestjs/common';
import { AccountModeRepository } from './account-mode.repository';
import { AccountModeService } from './account-mode.service';
import { JournalSettingsService } from './journal-settings';

/** Needs DbModule.forRoot(...) imported once by the app (it is global). */
@Module({
  providers: [AccountModeRepository, AccountModeService, JournalSettingsService],
  exports: [AccountModeService, JournalSettingsService],
})
export class AccountsModule {}
