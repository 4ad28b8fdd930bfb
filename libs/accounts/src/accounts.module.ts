import { Module } from '@nestjs/common';
import { AccountModeService } from './account-mode.service';
import { JournalSettingsService } from './journal-settings';

/** Needs DbModule.forRoot(...) imported once by the app (it is global). */
@Module({
  providers: [AccountModeService, JournalSettingsService],
  exports: [AccountModeService, JournalSettingsService],
})
export class AccountsModule {}
