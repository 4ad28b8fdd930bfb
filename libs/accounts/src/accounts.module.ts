import { Module } from '@nestjs/common';
import { AccountModeRepository } from './account-mode.repository';
import { AccountModeService } from './account-mode.service';

/** Needs DbModule.forRoot(...) imported once by the app (it is global). */
@Module({
  providers: [AccountModeRepository, AccountModeService],
  exports: [AccountModeService],
})
export class AccountsModule {}
