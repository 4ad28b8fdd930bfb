import { type DynamicModule, Module } from '@nestjs/common';
import { QUICK_TEST_OPTIONS, QuickTestService, type QuickTestOptions } from './quick-test.service';

/**
 * Provides {@link QuickTestService} to an app (the admin API's mailflow / gateway quick test). Needs DbModule.
 * `smtpHost`/`smtpPort` name the scanner's SMTP front as the app reaches it.
 */
@Module({})
export class QuickTestModule {
  static forRoot(options: QuickTestOptions): DynamicModule {
    return {
      module: QuickTestModule,
      providers: [{ provide: QUICK_TEST_OPTIONS, useValue: options }, QuickTestService],
      exports: [QuickTestService],
    };
  }
}
